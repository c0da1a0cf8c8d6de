// swift-tools-version:6.1
import PackageDescription

/// SwiftNFN: equivariant metanetworks (neural functionals) on BLAS/LAPACK.
///
/// Module graph (each depends only on those above it):
/// CNFNBLAS → LinearAlgebra → Tensors → TensorIO, Autograd → NeuralNetworks → WeightSpace → Metanetworks; Datasets → Training → Experiments → SwiftNFN → nfn
let package = Package(
    name: "SwiftNFN",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "SwiftNFN", targets: ["SwiftNFN"]),
        .executable(name: "nfn", targets: ["nfn"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.19"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
    ],
    targets: [
        // C: the only place that sees CBLAS / LAPACKE.
        .systemLibrary(
            name: "CNFNBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev", "liblapacke-dev"])]
        ),
        // C: zlib for gzip-compressed IDX files (Debian's zlib1g-dev).
        .systemLibrary(
            name: "CNFNZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        .target(name: "LinearAlgebra", dependencies: ["CNFNBLAS"]),
        .target(name: "Tensors", dependencies: ["LinearAlgebra"]),
        .target(name: "TensorIO", dependencies: ["Tensors", .product(name: "ZIPFoundation", package: "ZIPFoundation")]),
        .target(name: "Autograd", dependencies: ["Tensors"]),
        .target(name: "NeuralNetworks", dependencies: ["Tensors", "Autograd", "TensorIO"]),
        .target(name: "WeightSpace", dependencies: ["LinearAlgebra", "Tensors", "Autograd", "NeuralNetworks"]),
        .target(name: "Metanetworks", dependencies: ["Tensors", "Autograd", "NeuralNetworks", "WeightSpace", "LinearAlgebra"]),
        .target(name: "Datasets", dependencies: ["Tensors", "CNFNZlib"]),
        .target(name: "Training", dependencies: ["NeuralNetworks", "Datasets"]),
        .target(name: "Zoo", dependencies: ["Tensors", "TensorIO", "NeuralNetworks", "WeightSpace", "Datasets", "Training"]),
        .target(name: "Experiments", dependencies: ["NeuralNetworks", "Datasets", "Training", "WeightSpace", "Metanetworks", "Zoo",
                                                  .product(name: "Yams", package: "Yams")]),
        .target(
            name: "SwiftNFN",
            dependencies: ["LinearAlgebra", "Tensors", "TensorIO", "Autograd", "NeuralNetworks", "WeightSpace", "Metanetworks", "Datasets", "Training", "Experiments", "Zoo"]
        ),
        .executableTarget(
            name: "nfn",
            dependencies: ["SwiftNFN", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .target(name: "_TestSupport", dependencies: ["Tensors", "Autograd"]),

        .testTarget(name: "LinearAlgebraTests", dependencies: ["LinearAlgebra", "_TestSupport"]),
        .testTarget(name: "TensorsTests", dependencies: ["Tensors", "_TestSupport"]),
        .testTarget(name: "TensorIOTests", dependencies: ["TensorIO", "_TestSupport"]),
        .testTarget(name: "AutogradTests", dependencies: ["Autograd", "_TestSupport"]),
        .testTarget(name: "NeuralNetworksTests", dependencies: ["NeuralNetworks", "_TestSupport"]),
        .testTarget(name: "WeightSpaceTests", dependencies: ["WeightSpace", "Datasets", "_TestSupport"]),
        .testTarget(name: "MetanetworksTests", dependencies: ["Metanetworks", "WeightSpace", "_TestSupport"]),
        .testTarget(name: "TrainingTests", dependencies: ["Training", "_TestSupport"]),
        .testTarget(name: "DatasetsTests", dependencies: ["Datasets", "_TestSupport"]),
        .testTarget(name: "ZooTests", dependencies: ["Zoo", "Tensors", "TensorIO", "Autograd", "NeuralNetworks", "Datasets", "Training", "_TestSupport"]),
        .testTarget(name: "ExperimentsTests", dependencies: ["Experiments", "SwiftNFN", "_TestSupport"]),
    ]
)
