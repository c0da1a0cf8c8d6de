import Testing
import Tensors
import NeuralNetworks

/// The branch-free mask draws exactly what the plain formula draws, so zoos keep their members.
@Suite struct DropoutMaskTests {
    @Test(arguments: [Float(0), 0.1, 0.3, 0.5, 0.7, 0.999])
    func sameMaskAsThePlainFormula(rate: Float) {
        var fast = SeededGenerator(seed: 12), plain = fast
        let mask = Dropout.mask(shape: [3, 1001], rate: rate, rng: &fast)
        let keep = 1 - rate, scale = 1 / keep
        let expected = (0..<mask.count).map { _ in plain.nextUnitFloat() < keep ? scale : 0 }
        #expect(mask.scalars == expected)
        #expect(fast.next() == plain.next())   // the generator advanced by the same number of draws
    }
}
