import Tensors
import TreeEnsembles

/// A small synthetic regression: y = 2·x₀ − x₁ + 0.5·x₀x₂ + noise, on uniform features.
enum Synthetic {
    static func regression(rows: Int, columns: Int = 4, seed: UInt64) -> (x: Tensor, y: [Float]) {
        var rng = SeededGenerator(seed: seed)
        let x = Tensor(shape: [rows, columns]) { _ in Float.random(in: -1...1, using: &rng) }
        let s = x.scalars
        let y = (0..<rows).map { i -> Float in
            let r = Array(s[(i * columns)..<((i + 1) * columns)])
            return 2 * r[0] - r[1] + 0.5 * r[0] * r[2] + Float.random(in: -0.05...0.05, using: &rng)
        }
        return (x, y)
    }

    /// Settings that let a 200-row fit split (the papers' min_child_weight 50 would leave few leaves).
    static func small(_ kind: TreeEnsembleKind) -> TreeEnsembleHyperparameters {
        var h = kind.defaults
        h.minChildWeight = 1
        h.maxDepth = 4
        if kind == .xgboost { h.rounds = 20 } else { h.parallelTrees = 8 }
        return h
    }
}
