import Foundation
import Tensors
import NeuralNetworks
import WeightSpace
import Datasets

/// Runs ``SymmetryCheck`` on real Fashion-MNIST test images (or, when the data set is not
/// installed and `allowSynthetic` is set, on the built-in synthetic digits).
public enum SymmetryCheckRunner {
    /// The images a check runs on, with a description for the report.
    public static func images(count: Int, dataDirectory: URL = FashionMNIST.defaultDirectory,
                              allowSynthetic: Bool = false) throws -> (images: Tensor, description: String) {
        if FashionMNIST.isAvailable(split: .test, directory: dataDirectory) || !allowSynthetic {
            let test = try FashionMNIST.load(split: .test, directory: dataDirectory, pixelRange: .symmetric)
            let n = Swift.min(count, test.count)
            return (test.prefix(n).images, "fashion-mnist test images 0..<\(n)")
        }
        let synthetic = SyntheticDigits.make(count: count, seed: 0, pixelRange: .symmetric)
        return (synthetic.images, "synthetic digits (Fashion-MNIST not installed)")
    }

    /// One check, end to end.
    public static func run(family: NetworkFamily, group: SymmetryGroup, activation: Activation?,
                           trials: Int, seed: UInt64, imageCount: Int = 64,
                           dataDirectory: URL = FashionMNIST.defaultDirectory,
                           allowSynthetic: Bool = false) throws -> SymmetryCheckReport {
        let (images, description) = try images(count: imageCount, dataDirectory: dataDirectory, allowSynthetic: allowSynthetic)
        let inputs = SymmetryCheck.inputs(for: family, images: images)
        let what = family == .siren ? "pixel coordinate grid of \(images.shape[2])×\(images.shape[3])" : description
        return try SymmetryCheck.run(family: family, group: group, activation: activation, trials: trials,
                                     seed: seed, inputs: inputs, inputDescription: what)
    }
}
