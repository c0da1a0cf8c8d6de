// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "WeightSpaceRegression",
    platforms: [.macOS(.v14)],
    dependencies: [
        // This repository, two folders up. From your own project use the URL form instead:
        // .package(url: "<this repository's clone URL>", branch: "main"), see Docs/UsingSwiftNFN.md.
        .package(name: "SwiftNFN", path: "../.."),
    ],
    targets: [
        .executableTarget(
            name: "weight-space-regression",
            dependencies: [
                // One product per module used: SwiftPM then compiles only these modules and what
                // they need (not Datasets, Training, Zoo, Experiments). `.product(name: "SwiftNFN",
                // package: "SwiftNFN")` with `import SwiftNFN` gives every module instead.
                .product(name: "Tensors", package: "SwiftNFN"),
                .product(name: "NeuralNetworks", package: "SwiftNFN"),
                .product(name: "WeightSpace", package: "SwiftNFN"),
                .product(name: "Metanetworks", package: "SwiftNFN"),
            ]
        ),
    ]
)
