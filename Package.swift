// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "portstorm",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "portstorm", targets: ["portstorm"]),
        .library(name: "PortstormEngine", targets: ["PortstormEngine"]),
        .library(name: "PortstormLab", targets: ["PortstormLab"]),
        .library(name: "PortstormRecord", targets: ["PortstormRecord"]),
        .library(name: "PortstormRender", targets: ["PortstormRender"]),
        .library(name: "PortstormSystem", targets: ["PortstormSystem"]),
        .library(name: "PortstormTLS", targets: ["PortstormTLS"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    ],
    targets: [
        // liburing through pkg-config (Debian: liburing-dev).
        .systemLibrary(
            name: "CLibURing",
            pkgConfig: "liburing",
            providers: [.apt(["liburing-dev"])]
        ),
        // OpenSSL 3 through pkg-config (Debian: libssl-dev).
        .systemLibrary(
            name: "COpenSSL",
            pkgConfig: "openssl",
            providers: [.apt(["libssl-dev"])]
        ),
        // TLS client sessions over memory BIOs (OpenSSL only transforms bytes; the ring moves them),
        // and the naming of TLS failures.
        .target(
            name: "PortstormTLS",
            dependencies: ["COpenSSL", "PortstormRecord", "PortstormSystem"]
        ),
        // Typed wrappers over the kernel: ring, sockets, addresses, errno, limits.
        .target(
            name: "PortstormSystem",
            dependencies: [
                "CLibURing",
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        // The run record and its parts; no I/O.
        .target(
            name: "PortstormRecord",
            dependencies: [.product(name: "Histogram", package: "hdrhistogram-swift")]
        ),
        // Attempts, scheduling (rate / concurrency), outcomes.
        .target(
            name: "PortstormEngine",
            dependencies: ["PortstormSystem", "PortstormRecord", "PortstormTLS", "CLibURing"]
        ),
        // Kernel observation: sysctl snapshot, /proc/net counters, sock_diag census.
        .target(
            name: "PortstormProbes",
            dependencies: ["PortstormSystem", "PortstormRecord"]
        ),
        // Built-in target servers, network namespaces, the labs: their catalogue, runner and verdicts.
        .target(
            name: "PortstormLab",
            dependencies: ["PortstormSystem", "PortstormRecord", "PortstormEngine", "PortstormAnalysis", "PortstormTLS", "COpenSSL"]
        ),
        // Record -> findings: pure functions (preflight now; the reporter's analysis next).
        .target(
            name: "PortstormAnalysis",
            dependencies: ["PortstormRecord"]
        ),
        // Record and findings -> terminal summary, live line, doctor report.
        .target(
            name: "PortstormRender",
            dependencies: ["PortstormRecord", "PortstormAnalysis"]
        ),
        .executableTarget(
            name: "portstorm",
            dependencies: [
                "PortstormAnalysis", "PortstormEngine", "PortstormLab", "PortstormProbes", "PortstormRecord", "PortstormRender",
                "PortstormSystem",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        // Literal records shared by the tests.
        .target(name: "PortstormTestSupport", dependencies: ["PortstormRecord", "PortstormSystem"], path: "Tests/Support"),
        .testTarget(name: "PortstormSystemTests", dependencies: ["PortstormSystem"]),
        .testTarget(name: "PortstormTLSTests", dependencies: ["PortstormTLS", "PortstormRecord"]),
        .testTarget(name: "PortstormAnalysisTests", dependencies: ["PortstormAnalysis", "PortstormRecord", "PortstormTestSupport"]),
        .testTarget(
            name: "PortstormProbesTests",
            dependencies: ["PortstormProbes", "PortstormRecord", "PortstormSystem", "PortstormLab", "PortstormEngine",
                           "PortstormTestSupport"],
            exclude: ["Fixtures"]
        ),
        .testTarget(name: "PortstormLabTests", dependencies: ["PortstormLab", "PortstormEngine", "PortstormRecord", "PortstormTestSupport"]),
        .testTarget(name: "PortstormRecordTests", dependencies: ["PortstormRecord", "PortstormTestSupport"]),
        .testTarget(name: "PortstormRenderTests", dependencies: ["PortstormRender", "PortstormRecord", "PortstormTestSupport"],
                    resources: [.copy("Golden")]),
        .testTarget(
            name: "PortstormEngineTests",
            dependencies: ["PortstormEngine", "PortstormLab", "PortstormRecord", "PortstormSystem", "PortstormTestSupport"]
        ),
        .testTarget(
            name: "PortstormCLITests",
            dependencies: ["portstorm", "PortstormRecord", "PortstormLab", "PortstormSystem", "PortstormAnalysis",
                           "PortstormTestSupport"],
            exclude: ["Golden", "Fixtures"]
        ),
        // The truth suite: real servers in network namespaces it makes, counts checked against the
        // kernel's (root only; skipped with the reason otherwise).
        .testTarget(name: "PortstormTruthTests", dependencies: ["portstorm", "PortstormRecord", "PortstormAnalysis"]),
    ],
    swiftLanguageModes: [.v6]
)

// Fuzz targets (libFuzzer): only when PORTSTORM_FUZZ is set, as `make fuzz` does, because they need
// `-sanitize=fuzzer`; `swift build` and `make test` never see them.
if Context.environment["PORTSTORM_FUZZ"] != nil {
    package.targets += [
        .target(name: "FuzzDriver", path: "Fuzz/FuzzDriver"),
        .executableTarget(name: "FuzzRecord", dependencies: ["FuzzDriver", "PortstormRecord", "PortstormAnalysis", "PortstormRender"],
                          path: "Fuzz/FuzzRecord"),
        .executableTarget(name: "FuzzScenario", dependencies: ["FuzzDriver", "PortstormRecord", "PortstormSystem",
                                                               .product(name: "Yams", package: "Yams")],
                          path: "Fuzz/FuzzScenario"),
    ]
}
