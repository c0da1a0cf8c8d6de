import Tensors

/// A tiny synthetic digit data set that needs no files: **a fallback for unit tests only**.
///
/// Each image is a 28×28 grayscale seven-segment rendering of its digit (0–9, 2-pixel strokes),
/// moved by a random shift of up to `maxShift` pixels in each direction, drawn at a random
/// brightness in [0.7, 1], with Gaussian noise of standard deviation `noise` added and the result
/// clamped to [0, 1] before it is mapped to `pixelRange`. The classes are balanced (counts differ
/// by at most one) and come in a random order. Everything is determined by `seed`.
///
/// The task is easy but not trivial: with the defaults a 1-nearest-neighbour classifier on a few
/// hundred training images gets over 90% of fresh images right, while the class means alone
/// (a template matcher that ignores the shifts) do clearly worse. A small network that trains
/// correctly should reach high accuracy in a few steps and a broken one will not. It is no
/// substitute for a real data set in experiments.
///
/// ```swift
/// let train = SyntheticDigits.make(count: 512, seed: 1)
/// let test = SyntheticDigits.make(count: 128, seed: 2)
/// train.images.shape   // [512, 1, 28, 28]
/// ```
public enum SyntheticDigits {
    /// Image side length in pixels.
    public static let side = 28
    /// The number of classes.
    public static let classCount = 10

    /// Segments lit for each digit: a (top), b (upper right), c (lower right), d (bottom),
    /// e (lower left), f (upper left), g (middle).
    static let segments: [String] = [
        "abcdef", "bc", "abdeg", "abcdg", "bcfg", "acdfg", "acdefg", "abc", "abcdefg", "abcdfg",
    ]

    /// Generates `count` labelled images.
    ///
    /// - Parameters:
    ///   - count: the number of images (negative counts give an empty data set).
    ///   - seed: the random seed; the same seed gives the same data set.
    ///   - pixelRange: the range of the pixel values (default [0, 1]).
    ///   - noise: the standard deviation of the added Gaussian noise, before clamping.
    ///   - maxShift: the largest translation in pixels, in each direction.
    public static func make(count: Int, seed: UInt64, pixelRange: PixelRange = .unit,
                            noise: Float = 0.1, maxShift: Int = 1) -> LabeledImageDataset {
        let n = Swift.max(0, count)
        var rng = SeededGenerator(seed: seed)
        let labels = rng.permutation(n).map { $0 % classCount }
        let shift = Swift.max(0, maxShift)
        let plane = side * side
        var images = Tensor(uninitializedShape: [n, 1, side, side])
        images.withUnsafeMutableBufferPointer { out in
            for (i, label) in labels.enumerated() {
                let dx = Int(rng.next(upperBound: UInt64(2 * shift + 1))) - shift
                let dy = Int(rng.next(upperBound: UInt64(2 * shift + 1))) - shift
                let brightness = 0.7 + 0.3 * rng.nextUnitFloat()
                let glyph = render(label, dx: dx, dy: dy)
                for p in 0..<plane {
                    let v = Swift.min(1, Swift.max(0, brightness * glyph[p] + noise * rng.nextNormal()))
                    out[i * plane + p] = pixelRange.scale(v * 255)
                }
            }
        }
        return LabeledImageDataset(unchecked: "synthetic-digits", images: images, labels: labels,
                                   classCount: classCount, pixelRange: pixelRange)
    }

    /// The noiseless glyph of `digit` shifted by (`dx`, `dy`), as 28×28 values in {0, 1}.
    static func render(_ digit: Int, dx: Int, dy: Int) -> [Float] {
        var canvas = [Float](repeating: 0, count: side * side)
        // The glyph's box: columns 9...18, rows 4...23; strokes are 2 pixels thick.
        let left = 9, right = 17, top = 4, middle = 13, bottom = 22
        func fill(rows: ClosedRange<Int>, cols: ClosedRange<Int>) {
            for r in rows {
                for c in cols {
                    let y = r + dy, x = c + dx
                    if y >= 0 && y < side && x >= 0 && x < side { canvas[y * side + x] = 1 }
                }
            }
        }
        for segment in segments[digit] {
            switch segment {
            case "a": fill(rows: top...(top + 1), cols: left...(right + 1))
            case "b": fill(rows: top...(middle + 1), cols: right...(right + 1))
            case "c": fill(rows: middle...(bottom + 1), cols: right...(right + 1))
            case "d": fill(rows: bottom...(bottom + 1), cols: left...(right + 1))
            case "e": fill(rows: middle...(bottom + 1), cols: left...(left + 1))
            case "f": fill(rows: top...(middle + 1), cols: left...(left + 1))
            default: fill(rows: middle...(middle + 1), cols: left...(right + 1))
            }
        }
        return canvas
    }
}
