// swift-tools-version:6.1
import PackageDescription

/// SwiftNFN: equivariant metanetworks (neural functionals) on BLAS/LAPACK.
///
/// Module graph (each module depends only on modules on earlier lines):
///
///     CNFNBLAS, CNFNZlib, CXGBoost            system libraries (CBLAS + LAPACKE, zlib, XGBoost's C API)
///     CNFNVectorMath                          C: the AVX2 lanes of the fused sine-layer pass (runtime-dispatched)
///     LinearAlgebra                           BLAS / LAPACK wrappers
///     Tensors                                 the Float32 array
///     TensorIO, Autograd                      file formats (and the atomic writer); the tape
///     Datasets                                image data sets
///     NeuralNetworks                          modules, layers, zoo models, optimizers
///     WeightSpace                             weight spaces, their groups, features, rendering
///     Metanetworks, Training                  equivariant layers and models; trainers, splits, metrics
///     TreeEnsembles                           XGBoost boosted trees and random forests (the only user of CXGBoost)
///     Zoo                                     model zoos: generation, on-disk format, import
///     Experiments                             tasks, run configurations, reports, the main job
///     SwiftNFN                                umbrella (re-exports every module)
///     nfn                                     the command line
///
/// Every module is a library product of its own, so a client can depend on just what it uses.
let modules = ["LinearAlgebra", "Tensors", "TensorIO", "Autograd", "Datasets", "NeuralNetworks", "WeightSpace",
               "Metanetworks", "Training", "TreeEnsembles", "Zoo", "Experiments"]

let package = Package(
    name: "SwiftNFN",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "SwiftNFN", targets: ["SwiftNFN"]),
        .executable(name: "nfn", targets: ["nfn"]),
    ] + modules.map { .library(name: $0, targets: [$0]) },
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
        // C: XGBoost's C API (Debian's libxgboost-dev); only TreeEnsembles sees it.
        .systemLibrary(
            name: "CXGBoost",
            pkgConfig: "xgboost",
            providers: [.apt(["libxgboost-dev"])]
        ),
        // C: 256-bit lanes for the SIREN forward's sincos. Swift compiles for baseline x86-64
        // (128-bit SSE lanes); this one function is built for AVX2 and chosen at run time, with
        // the same arithmetic (so the same bits) as the Swift kernel it stands in for.
        .target(name: "CNFNVectorMath"),
        .target(name: "LinearAlgebra", dependencies: ["CNFNBLAS"]),
        .target(name: "Tensors", dependencies: ["LinearAlgebra", "CNFNVectorMath"]),
        .target(name: "TensorIO", dependencies: ["Tensors", .product(name: "ZIPFoundation", package: "ZIPFoundation")]),
        .target(name: "Autograd", dependencies: ["Tensors"]),
        .target(name: "Datasets", dependencies: ["Tensors", "TensorIO", "CNFNZlib"]),
        .target(name: "NeuralNetworks", dependencies: ["Tensors", "Autograd", "TensorIO"]),
        .target(name: "WeightSpace", dependencies: ["Tensors", "Autograd", "NeuralNetworks"]),
        .target(name: "Metanetworks", dependencies: ["LinearAlgebra", "Tensors", "Autograd", "NeuralNetworks", "WeightSpace"]),
        .target(name: "Training", dependencies: ["LinearAlgebra", "Tensors", "TensorIO", "Autograd", "NeuralNetworks", "Datasets"]),
        .target(name: "TreeEnsembles", dependencies: ["CXGBoost", "Tensors", "TensorIO"]),
        .target(name: "Zoo", dependencies: ["LinearAlgebra", "Tensors", "TensorIO", "Autograd", "NeuralNetworks", "WeightSpace",
                                            "Datasets", "Training", "CNFNZlib"]),
        .target(name: "Experiments", dependencies: ["LinearAlgebra", "Tensors", "TensorIO", "Autograd", "NeuralNetworks",
                                                    "WeightSpace", "Metanetworks", "Datasets", "Training", "TreeEnsembles", "Zoo",
                                                    .product(name: "Yams", package: "Yams")]),
        .target(name: "SwiftNFN", dependencies: modules.map { .target(name: $0) }),
        .executableTarget(
            name: "nfn",
            dependencies: ["SwiftNFN", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),

        // Test helpers: finite-difference and equivariance checks, scratch folders, fixtures, the
        // `nfn` process runner.
        .target(name: "_TestSupport", dependencies: ["Tensors", "TensorIO", "Autograd", "NeuralNetworks", "Datasets", "Training", "Zoo"]),

        .testTarget(name: "LinearAlgebraTests", dependencies: ["LinearAlgebra"]),
        .testTarget(name: "TensorsTests", dependencies: ["LinearAlgebra", "Tensors"]),
        .testTarget(name: "TensorIOTests", dependencies: ["Tensors", "TensorIO"]),
        .testTarget(name: "AutogradTests", dependencies: ["Tensors", "Autograd", "_TestSupport"]),
        .testTarget(name: "NeuralNetworksTests", dependencies: ["Tensors", "TensorIO", "Autograd", "NeuralNetworks"]),
        .testTarget(name: "DatasetsTests", dependencies: ["Tensors", "Datasets"]),
        .testTarget(name: "WeightSpaceTests", dependencies: ["Tensors", "Autograd", "NeuralNetworks", "WeightSpace", "Datasets"]),
        .testTarget(name: "MetanetworksTests", dependencies: ["LinearAlgebra", "Tensors", "Autograd", "NeuralNetworks",
                                                             "WeightSpace", "Metanetworks", "_TestSupport"]),
        .testTarget(name: "TrainingTests", dependencies: ["LinearAlgebra", "Tensors", "NeuralNetworks", "Datasets", "Training"]),
        .testTarget(name: "TreeEnsemblesTests", dependencies: ["Tensors", "TreeEnsembles", "_TestSupport"]),
        .testTarget(name: "ZooTests", dependencies: ["Tensors", "TensorIO", "Autograd", "NeuralNetworks", "WeightSpace",
                                                     "Datasets", "Training", "Zoo", "_TestSupport"]),
        .testTarget(name: "ExperimentsTests", dependencies: ["LinearAlgebra", "Tensors", "TensorIO", "Autograd", "NeuralNetworks", "WeightSpace",
                                                            "Metanetworks", "Training", "TreeEnsembles", "Zoo", "Experiments", "SwiftNFN",
                                                            "_TestSupport"]),
        // Every ```swift block of README.md and Docs/, compiled (Scripts/doc-snippets.sh writes
        // Generated/ from the articles) and, where it needs no files, run.
        .testTarget(name: "DocSnippetTests", dependencies: ["SwiftNFN"] + modules.map { .target(name: $0) }),
        // Reliability on hostile input: generated truncations, bit flips and field overrides for every
        // loader, hostile flags and destinations for the CLI (run with deadlines), mismatched
        // weight spaces for the library API.
        .testTarget(name: "FaultTests", dependencies: ["Tensors", "TensorIO", "NeuralNetworks", "WeightSpace", "Metanetworks",
                                                       "Datasets", "Zoo", "Experiments", "_TestSupport"]),
        // End-to-end tests of the `nfn` executable (run as a process).
        .testTarget(name: "CommandLineTests", dependencies: ["Datasets", "Training", "Zoo", "Experiments", "_TestSupport"]),
    ]
)
