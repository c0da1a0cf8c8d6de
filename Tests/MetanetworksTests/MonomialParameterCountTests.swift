import Testing
import Tensors
import NeuralNetworks
import WeightSpace
import Metanetworks

@Suite struct MonomialParameterCountTests {
    @Test(arguments: MonomialTestArchitecture.allCases, MonomialGroupKind.allCases)
    func staticCountMatchesTheBuiltLayer(_ a: MonomialTestArchitecture, _ kind: MonomialGroupKind) throws {
        var rng = SeededGenerator(seed: 1)
        for (c, co) in [(1, 16), (16, 16), (3, 5)] {
            let layer = try MonomialLinear(inChannels: c, outChannels: co, architecture: a.architecture, kind: kind, rng: &rng)
            #expect(layer.parameterCount == MonomialLinear.parameterCount(inChannels: c, outChannels: co,
                                                                          architecture: a.architecture, kind: kind))
        }
    }

    @Test func smallCNNZooCountsByHand() {
        let arch = FeedforwardArchitecture.smallCNNZoo()
        // c·c′·[(1·9 + 1)² + 2·(81 + 1) + 10·10 + 10²] + c′·10 = 464·c·c′ + 10·c′.
        #expect(MonomialLinear.parameterCount(inChannels: 16, outChannels: 16, architecture: arch, kind: .positiveScaling) == 464 * 256 + 160)
        // Sign adds Z (c·c′·10) and Ω (c·c′·10).
        #expect(MonomialLinear.parameterCount(inChannels: 16, outChannels: 16, architecture: arch, kind: .sign) == 484 * 256 + 160)
    }

    /// Tran et al. 2024 (*Monomial Matrix Group Equivariant NFNs*, §5.1): "linear in L, n₀, n_L"?
    /// Linear in L; quadratic in n₀ and n_L (first/last layers mix whole rows/columns). HNP is
    /// quadratic in L as well.
    @Test func growthInDepthAndIOWidths() throws {
        func mlp(_ n0: Int, _ depth: Int, _ nL: Int) throws -> FeedforwardArchitecture {
            try .mlp(widths: [n0] + Array(repeating: 8, count: depth - 1) + [nL])
        }
        func mono(_ a: FeedforwardArchitecture) -> Int {
            MonomialLinear.parameterCount(inChannels: 4, outChannels: 4, architecture: a, kind: .positiveScaling)
        }
        func hnp(_ a: FeedforwardArchitecture) -> Int { MonomialLinear.hnpParameterCount(inChannels: 4, outChannels: 4, architecture: a) }
        func secondDifference(_ f: (Int) throws -> Int, at x: Int) rethrows -> Int { try f(x + 2) - 2 * f(x + 1) + f(x) }

        // Depth L (n₀ = 3, n_L = 2), away from the L = 2, 3 special cases.
        #expect(try secondDifference({ mono(try mlp(3, $0, 2)) }, at: 4) == 0)             // linear
        #expect(try secondDifference({ hnp(try mlp(3, $0, 2)) }, at: 4) > 0)               // quadratic
        // Input width n₀: 2·c·c′·f² for Monomial; HNP is quadratic too.
        #expect(try secondDifference({ mono(try mlp($0, 4, 2)) }, at: 3) == 2 * 16)
        #expect(try secondDifference({ hnp(try mlp($0, 4, 2)) }, at: 3) > 0)
        // Output width n_L: 2·c·c′·(f² + 1).
        #expect(try secondDifference({ mono(try mlp(3, 4, $0)) }, at: 3) == 2 * 16 * 2)
        // No cross terms in Monomial: the n₀ slope does not depend on L, unlike HNP's.
        let monoSlope = { (depth: Int) throws -> Int in try mono(mlp(4, depth, 2)) - mono(mlp(3, depth, 2)) }
        let hnpSlope = { (depth: Int) throws -> Int in try hnp(mlp(4, depth, 2)) - hnp(mlp(3, depth, 2)) }
        #expect(try monoSlope(4) == monoSlope(7))
        #expect(try hnpSlope(7) > hnpSlope(4))
    }

    @Test func monomialIsSmallerThanHNPOnTheZoo() {
        let arch = FeedforwardArchitecture.smallCNNZoo()
        var rows: [String] = []
        for (c, co) in [(1, 16), (16, 16), (16, 5)] {
            let m = MonomialLinear.parameterCount(inChannels: c, outChannels: co, architecture: arch, kind: .positiveScaling)
            let h = MonomialLinear.hnpParameterCount(inChannels: c, outChannels: co, architecture: arch)
            #expect(m < h)
            rows.append("\(c)→\(co): Monomial \(m), HNP \(h)")
        }
        print("Small CNN Zoo per-layer parameter counts: " + rows.joined(separator: "; "))
    }
}
