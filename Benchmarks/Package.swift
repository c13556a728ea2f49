// swift-tools-version: 6.1
//
// Microbenchmarks for portstorm's hot path (recording outcomes and latencies).
// A separate package so that `swift build` of the main package never sees it.
// Run from this folder: see README.md.
import PackageDescription

// The parent package (portstorm) is `.package(path: "..")`; a path dependency's identity is the
// name of its folder, which is whatever the clone is called ("main" here), so it is read, not fixed.
let parent = Context.packageDirectory.split(separator: "/").dropLast().last.map { String($0).lowercased() } ?? "main"

let package = Package(
    name: "PortstormBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: ".."),
        // Only the MallocInterposer trait: this replaces the package's default traits and so turns
        // RuntimeInterposer off, whose swift-runtime-interposer package is not available here.
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "PortstormRecordBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "PortstormRecord", package: parent),
                .product(name: "PortstormEngine", package: parent),
                .product(name: "PortstormSystem", package: parent),
                .product(name: "PortstormLab", package: parent),
            ],
            path: "Benchmarks/PortstormRecordBenchmarks",
            plugins: [
                .plugin(name: "BenchmarkPlugin", package: "benchmark"),
            ]
        ),
    ]
)
