import Testing
import Tensors
import Autograd
import NeuralNetworks
import WeightSpace
import Metanetworks
import Experiments
import _TestSupport

@Suite struct INRTests {
    @Test func rendererMatchesTheSIRENModel() throws {
        var rng = SeededGenerator(seed: 1)
        let sirens = (0..<3).map { _ in SIREN(inputs: 2, hiddenWidths: [8, 8], outputs: 1, rng: &rng) }
        let coords = SIRENRenderer.coordinates(height: 5, width: 4)
        let rendered = SIRENRenderer.render(WeightSpaceVariables(try WeightSpaceFeatures(models: sirens)), coordinates: coords).value
        for (i, s) in sirens.enumerated() {
            let direct = s(Variable(coords)).value
            #expect(rendered[i].isApproximatelyEqual(to: direct, rtol: 1e-4, atol: 1e-5))
        }
    }

    @Test func rendererGradientMatchesFiniteDifferences() throws {
        var rng = SeededGenerator(seed: 2)
        let f = WeightSpaceFeatures(model: SIREN(inputs: 2, hiddenWidths: [4], outputs: 1, frequency: 3, rng: &rng))
        let coords = SIRENRenderer.coordinates(height: 3, width: 3)
        let r = checkGradient(at: f.weights + f.biases) { v in
            SIRENRenderer.render(WeightSpaceVariables(weights: Array(v[0..<2]), biases: Array(v[2..<4])),
                                 coordinates: coords, frequency: 3)
        }
        #expect(r.maxRelativeError < 2e-2, "\(r)")
    }

    @Test func imageEditsBehave() {
        let img = Tensor(shape: [1, 3, 3], scalars: [0, 0, 0, 0, 1, 0, 0, 0, 0])
        #expect(ImageEdit.dilate.apply(img) == Tensor(ones: [1, 3, 3]))
        #expect(ImageEdit.erode.apply(img) == Tensor(zeros: [1, 3, 3]))
        #expect(ImageEdit.gradient.apply(img) == Tensor(ones: [1, 3, 3]))
        let c = ImageEdit.contrast.apply(img)
        #expect(abs(c.mean() - img.mean()) < 1e-6)
        #expect(c.max() - c.min() > img.max() - img.min())
    }
}
