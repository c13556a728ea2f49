# portstorm: the two commands of the README, and their set-up.
SWIFT ?= swift

.PHONY: deps demo test build release clean

# liburing-dev (pkg-config liburing) is the one system package the build needs.
deps:
	@pkg-config --exists liburing 2>/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq liburing-dev pkg-config; \
	  else \
	    echo "portstorm needs liburing-dev: run 'sudo apt-get install liburing-dev pkg-config', then retry" >&2; exit 1; \
	  fi; }

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release

# A built-in HTTP target on loopback, a 5-second churn against it, the summary, demo-run.json.
demo: release
	.build/release/portstorm demo

# Live tests count sockets on loopback: run them one at a time.
test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --no-parallel

clean:
	rm -rf .build
