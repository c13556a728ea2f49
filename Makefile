# portstorm: the two commands of the README, and their set-up.
SWIFT ?= swift

.PHONY: deps demo test build release clean fuzz install uninstall install-files install-check

# liburing-dev (pkg-config liburing) and libssl-dev (pkg-config openssl, OpenSSL 3) are the system
# packages the build needs.
deps:
	@pkg-config --exists liburing openssl 2>/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq liburing-dev libssl-dev pkg-config; \
	  else \
	    echo "portstorm needs liburing-dev and libssl-dev: run 'sudo apt-get install liburing-dev libssl-dev pkg-config', then retry" >&2; exit 1; \
	  fi; }

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release

# make install [PREFIX=/usr/local] [DESTDIR=]: a release binary with the Swift standard library
# linked in (--static-swift-stdlib: it runs where Swift is not installed; it still needs glibc and
# liburing), its man page (generated from the command definitions by swift-argument-parser's
# generate-manual plugin) and completions for bash, zsh and fish. make uninstall removes them.
# The page at 80 columns: man sets a subcommand's text 13 columns in, leaving 65, so COLUMNS=64
# wraps the help's lists (labs, modes, exit statuses) to fit there and no line of them is broken
# again; the blank lines the plugin leaves between paragraphs become .Pp (mdoc warns of them).
PREFIX ?= /usr/local
BINDIR = $(DESTDIR)$(PREFIX)/bin
MANDIR = $(DESTDIR)$(PREFIX)/share/man/man1
BASHDIR = $(DESTDIR)$(PREFIX)/share/bash-completion/completions
ZSHDIR = $(DESTDIR)$(PREFIX)/share/zsh/site-functions
FISHDIR = $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d
STATIC_BIN = .build/release/portstorm
GENERATED_MANPAGE = .build/plugins/GenerateManual/outputs/portstorm/portstorm.1
MANPAGE = .build/portstorm.1

install: deps
	$(SWIFT) build -c release --static-swift-stdlib --product portstorm
	COLUMNS=64 $(SWIFT) package plugin generate-manual --configuration debug
	sed 's/^$$/.Pp/' $(GENERATED_MANPAGE) > $(MANPAGE)
	$(MAKE) install-files

# The copying alone, from a build made already (the install test calls it with a DESTDIR).
install-files:
	install -d $(BINDIR) $(MANDIR) $(BASHDIR) $(ZSHDIR) $(FISHDIR)
	install -m 755 $(STATIC_BIN) $(BINDIR)/portstorm
	install -m 644 $(MANPAGE) $(MANDIR)/portstorm.1
	$(STATIC_BIN) --generate-completion-script bash > $(BASHDIR)/portstorm
	$(STATIC_BIN) --generate-completion-script zsh > $(ZSHDIR)/_portstorm
	$(STATIC_BIN) --generate-completion-script fish > $(FISHDIR)/portstorm.fish

# Installs into a scratch DESTDIR and runs the installed binary with the toolchain hidden (root).
install-check:
	sh Tests/install-check.sh

uninstall:
	rm -f $(BINDIR)/portstorm $(MANDIR)/portstorm.1 $(BASHDIR)/portstorm $(ZSHDIR)/_portstorm $(FISHDIR)/portstorm.fish

# A built-in HTTP target on loopback, a 5-second churn against it, the summary, demo-run.json.
demo: release
	.build/release/portstorm demo

# Live tests count sockets on loopback: run them one at a time. As root, the built tests run in a
# network namespace of their own (unshare --net, loopback up), so the host's loopback sockets,
# TIME_WAIT, ports and counters cannot break them and they cannot disturb the host; labs still make
# their own namespaces from inside it. Otherwise they run here, and tests that need root skip
# with the reason.
test: deps
	$(SWIFT) build --build-tests
	@if [ "$$(id -u)" = 0 ] && command -v unshare >/dev/null && command -v ip >/dev/null && unshare --net true 2>/dev/null; then \
	  echo "make test: running the tests in a network namespace of their own (unshare --net)"; \
	  PORTSTORM_TEST_NETNS="$$(readlink /proc/self/ns/net)" unshare --net sh -c 'ip link set lo up && exec $(SWIFT) test --skip-build --no-parallel'; \
	else \
	  echo "make test: not root (or no unshare/ip): tests run in this network namespace; those needing root are skipped"; \
	  $(SWIFT) test --skip-build --no-parallel; \
	fi

# libFuzzer over the record decoder + analysis + every renderer, and over the scenario parser.
# FUZZ_SECONDS each (default 60). Seeds: Fuzz/corpus/*; what the fuzzer adds goes to .build/fuzz/,
# crashes to .build/fuzz/crash-* (Swift's backtracer is off so that libFuzzer saves the input).
# The targets exist only with PORTSTORM_FUZZ set (they need -sanitize=fuzzer): `make test` never
# builds them. FuzzRecord prints how many inputs loaded and were rendered, and how many were refused.
FUZZ_SECONDS ?= 60
FUZZ_BUILD = PORTSTORM_FUZZ=1 $(SWIFT) build -c release --scratch-path .build/fuzz -Xswiftc -sanitize=fuzzer
fuzz: deps
	$(FUZZ_BUILD) --product FuzzRecord
	$(FUZZ_BUILD) --product FuzzScenario
	mkdir -p .build/fuzz/corpus/record .build/fuzz/corpus/scenario
	SWIFT_BACKTRACE=enable=no .build/fuzz/release/FuzzRecord -max_total_time=$(FUZZ_SECONDS) -timeout=10 -max_len=65536 -print_final_stats=1 \
	  -artifact_prefix=.build/fuzz/crash-record- -dict=Fuzz/record.dict .build/fuzz/corpus/record Fuzz/corpus/record
	SWIFT_BACKTRACE=enable=no .build/fuzz/release/FuzzScenario -max_total_time=$(FUZZ_SECONDS) -timeout=10 -max_len=4096 -print_final_stats=1 \
	  -artifact_prefix=.build/fuzz/crash-scenario- -dict=Fuzz/scenario.dict .build/fuzz/corpus/scenario Fuzz/corpus/scenario

clean:
	rm -rf .build
