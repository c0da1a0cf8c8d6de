// swift-tools-version:6.1
import PackageDescription

// The benchmarks live in their own package so the library never depends on benchmark tooling.
// `make bench` runs `nfn-bench`, which times SwiftNFN side by side with references measured in
// the same run (raw OpenBLAS through its own C module; PyTorch CPU through python3 when
// torch is installed) and reports ratios, never bare absolute times.
let package = Package(
    name: "SwiftNFNBenchmarks",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(name: "SwiftNFN", path: "../"),
    ],
    targets: [
        // OpenBLAS called directly, as the "OpenBLAS alone" reference for sgemm.
        .systemLibrary(name: "CBenchBLAS", pkgConfig: "openblas"),
        .executableTarget(
            name: "nfn-bench",
            dependencies: [.product(name: "SwiftNFN", package: "SwiftNFN"), "CBenchBLAS"]
        ),
    ]
)
