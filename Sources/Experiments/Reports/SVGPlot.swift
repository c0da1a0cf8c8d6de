import Foundation

/// Minimal, dependency-free SVG charts that open in any browser: a scatter plot (predicted vs
/// true, with the y = x diagonal) and line charts (learning curves).
///
/// Axes end and tick at round values (multiples of 1, 2, 2.5 or 5 × 10^k; whole numbers on
/// integer axes such as epochs), so a plot can go into a paper as it is.
public enum SVGPlot {
    /// One line of a line chart.
    public struct Series: Sendable {
        /// The legend label.
        public var name: String
        /// Points in drawing order; non-finite points are skipped.
        public var points: [(x: Double, y: Double)]
        /// The x of a point to mark (e.g. the best epoch), drawn as a ring on the line.
        public var marked: Double?
        /// A named series.
        public init(name: String, points: [(x: Double, y: Double)], marked: Double? = nil) {
            self.name = name; self.points = points; self.marked = marked
        }
    }

    static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"]

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    /// A round axis for `values`: ticks at a step of 1, 2, 2.5 or 5 × 10^k (1, 2 or 5 × 10^k, at
    /// least 1, when `integer`), the smallest such step that needs at most `intervals` intervals,
    /// the axis widened to the ticks around the data.
    ///
    /// - Returns: the ticks (ascending, first = axis start, last = axis end) and the step.
    static func axis(_ values: [Double], integer: Bool = false, intervals: Int = 5) -> (ticks: [Double], step: Double) {
        let finite = values.filter(\.isFinite)
        guard var lo = finite.min(), var hi = finite.max() else { return ([0, 0.5, 1], 0.5) }
        if hi - lo < 1e-12 { lo -= integer ? 1 : 0.5; hi += integer ? 1 : 0.5 }
        let mantissas: [Double] = integer ? [1, 2, 5] : [1, 2, 2.5, 5]
        var magnitude = pow(10, floor(log10((hi - lo) / Double(intervals))) - 1)
        if integer { magnitude = Swift.max(magnitude, 1) }
        while true {
            for m in mantissas {
                let step = m * magnitude
                let first = floor(lo / step + 1e-9), last = ceil(hi / step - 1e-9)
                if last - first <= Double(intervals) {
                    return ((Int(first)...Int(last)).map { Double($0) * step }, step)
                }
            }
            magnitude *= 10
        }
    }

    /// A tick label with as many decimals as the step needs (0.1 → "0.3", 2.5 → "7.5", 1 → "16").
    static func label(_ value: Double, step: Double) -> String {
        var decimals = 0
        while decimals < 6, abs(step * pow(10, Double(decimals)) - (step * pow(10, Double(decimals))).rounded()) > 1e-6 {
            decimals += 1
        }
        let v = abs(value) < step * 1e-9 ? 0 : value
        return String(format: "%.\(decimals)f", v)
    }

    /// The plot area and its mapping from data to pixels.
    struct Frame {
        var width: Double, height: Double
        var left = 70.0, right = 20.0, top = 44.0, bottom = 55.0
        var x: (ticks: [Double], step: Double), y: (ticks: [Double], step: Double)

        var x0: Double { x.ticks.first ?? 0 }
        var x1: Double { x.ticks.last ?? 1 }
        var y0: Double { y.ticks.first ?? 0 }
        var y1: Double { y.ticks.last ?? 1 }
        func px(_ v: Double) -> Double { left + (v - x0) / Swift.max(x1 - x0, 1e-300) * (width - left - right) }
        func py(_ v: Double) -> Double { height - bottom - (v - y0) / Swift.max(y1 - y0, 1e-300) * (height - top - bottom) }

        /// The SVG document: title (and subtitle), axes with their ticks and labels, then `body`.
        func svg(title: String, subtitle: String?, xLabel: String, yLabel: String, body: String) -> String {
            let f = { (v: Double) in String(format: "%.1f", v) }
            var ticks = ""
            for v in x.ticks {
                ticks += "<line x1=\"\(f(px(v)))\" y1=\"\(f(height - bottom))\" x2=\"\(f(px(v)))\" y2=\"\(f(height - bottom + 5))\" stroke=\"#333\"/>"
                ticks += "<text x=\"\(f(px(v)))\" y=\"\(f(height - bottom + 18))\" font-size=\"11\" text-anchor=\"middle\">\(label(v, step: x.step))</text>"
            }
            for v in y.ticks {
                ticks += "<line x1=\"\(f(left - 5))\" y1=\"\(f(py(v)))\" x2=\"\(f(left))\" y2=\"\(f(py(v)))\" stroke=\"#333\"/>"
                ticks += "<line x1=\"\(f(left))\" y1=\"\(f(py(v)))\" x2=\"\(f(width - right))\" y2=\"\(f(py(v)))\" stroke=\"#eee\"/>"
                ticks += "<text x=\"\(f(left - 8))\" y=\"\(f(py(v) + 4))\" font-size=\"11\" text-anchor=\"end\">\(label(v, step: y.step))</text>"
            }
            let plotWidth = width - left - right, plotHeight = height - top - bottom
            let sub = subtitle.map { "<text x=\"\(f(left + plotWidth / 2))\" y=\"36\" font-size=\"12\" text-anchor=\"middle\" fill=\"#444\">\(escape($0))</text>" } ?? ""
            return """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" viewBox="0 0 \(Int(width)) \(Int(height))" font-family="sans-serif">
            <rect width="100%" height="100%" fill="white"/>
            <text x="\(f(left + plotWidth / 2))" y="18" font-size="15" text-anchor="middle">\(escape(title))</text>
            \(sub)
            \(ticks)
            <rect x="\(f(left))" y="\(f(top))" width="\(f(plotWidth))" height="\(f(plotHeight))" fill="none" stroke="#333"/>
            <text x="\(f(left + plotWidth / 2))" y="\(f(height - 12))" font-size="13" text-anchor="middle">\(escape(xLabel))</text>
            <text x="16" y="\(f(top + plotHeight / 2))" font-size="13" text-anchor="middle" transform="rotate(-90 16 \(f(top + plotHeight / 2)))">\(escape(yLabel))</text>
            \(body)
            </svg>
            """
        }
    }

    /// A scatter plot of `y` against `x` on one round scale for both axes, with the y = x diagonal.
    ///
    /// - Parameter subtitle: a second title line (e.g. R² and the number of points).
    public static func scatter(x: [Double], y: [Double], title: String, subtitle: String? = nil, xLabel: String,
                               yLabel: String, width: Double = 560, height: Double = 480) -> String {
        let scale = axis(x + y)
        let frame = Frame(width: width, height: height, x: scale, y: scale)
        let f = { (v: Double) in String(format: "%.1f", v) }
        var body = "<line x1=\"\(f(frame.px(frame.x0)))\" y1=\"\(f(frame.py(frame.y0)))\" x2=\"\(f(frame.px(frame.x1)))\" y2=\"\(f(frame.py(frame.y1)))\" stroke=\"#999\" stroke-dasharray=\"4 3\"/>"
        for (a, c) in zip(x, y) where a.isFinite && c.isFinite {
            body += "<circle cx=\"\(f(frame.px(a)))\" cy=\"\(f(frame.py(c)))\" r=\"2.5\" fill=\"#1f77b4\" fill-opacity=\"0.6\"/>"
        }
        return frame.svg(title: title, subtitle: subtitle, xLabel: xLabel, yLabel: yLabel, body: body)
    }

    /// A line chart with the legend to the right of the plot area (never over the lines) and a ring
    /// on each series' marked point.
    ///
    /// - Parameter integerX: whole-number x ticks (epochs).
    public static func lines(_ series: [Series], title: String, xLabel: String, yLabel: String, integerX: Bool = false,
                             width: Double = 640, height: Double = 400) -> String {
        let xs = series.flatMap { $0.points.map(\.x) }, ys = series.flatMap { $0.points.map(\.y) }
        let marked = series.contains { $0.marked != nil }
        let longest = (series.map(\.name.count) + (marked ? ["best epoch".count] : [])).max() ?? 0
        let legendWidth = 30 + 7.5 * Double(longest)
        var frame = Frame(width: width + legendWidth, height: height, x: axis(xs, integer: integerX), y: axis(ys))
        frame.right = 20 + legendWidth
        let f = { (v: Double) in String(format: "%.1f", v) }
        var body = ""
        for (k, s) in series.enumerated() {
            let color = palette[k % palette.count]
            let finite = s.points.filter { $0.x.isFinite && $0.y.isFinite }
            let pts = finite.map { "\(f(frame.px($0.x))),\(f(frame.py($0.y)))" }.joined(separator: " ")
            body += "<polyline points=\"\(pts)\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\"/>"
            if let m = s.marked, let p = finite.first(where: { $0.x == m }) {
                body += "<circle cx=\"\(f(frame.px(p.x)))\" cy=\"\(f(frame.py(p.y)))\" r=\"5\" fill=\"white\" stroke=\"\(color)\" stroke-width=\"2\"/>"
            }
            let ly = frame.top + 12 + Double(k) * 18, lx = frame.width - frame.right + 12
            body += "<line x1=\"\(f(lx))\" y1=\"\(f(ly - 4))\" x2=\"\(f(lx + 14))\" y2=\"\(f(ly - 4))\" stroke=\"\(color)\" stroke-width=\"2\"/>"
            body += "<text x=\"\(f(lx + 18))\" y=\"\(f(ly))\" font-size=\"12\" fill=\"\(color)\">\(escape(s.name))</text>"
        }
        if marked {
            let ly = frame.top + 12 + Double(series.count) * 18 + 6, lx = frame.width - frame.right + 12
            body += "<circle cx=\"\(f(lx + 7))\" cy=\"\(f(ly - 4))\" r=\"4\" fill=\"white\" stroke=\"#333\" stroke-width=\"1.5\"/>"
            body += "<text x=\"\(f(lx + 18))\" y=\"\(f(ly))\" font-size=\"11\" fill=\"#333\">best epoch</text>"
        }
        return frame.svg(title: title, subtitle: nil, xLabel: xLabel, yLabel: yLabel, body: body)
    }

    /// A strip chart: one column per category, a dot per value and a bar at the mean — the spread
    /// of a metric over seeds, per model.
    public static func strip(categories: [String], values: [[Double]], title: String, yLabel: String,
                             width: Double = 560, height: Double = 400) -> String {
        let n = Swift.max(categories.count, 1)
        var frame = Frame(width: Swift.max(width, 140 + Double(n) * 90), height: height,
                          x: ([0, Double(n)], 1), y: axis(values.flatMap { $0 }))
        frame.bottom = 70
        let f = { (v: Double) in String(format: "%.1f", v) }
        var body = ""
        for (k, (name, column)) in zip(categories, values).enumerated() {
            let color = palette[k % palette.count], center = Double(k) + 0.5
            let finite = column.filter(\.isFinite)
            for (j, v) in finite.enumerated() {
                // Spread the dots of one column sideways so that equal values stay visible.
                let offset = finite.count > 1 ? (Double(j) / Double(finite.count - 1) - 0.5) * 0.3 : 0
                body += "<circle cx=\"\(f(frame.px(center + offset)))\" cy=\"\(f(frame.py(v)))\" r=\"4\" fill=\"\(color)\" fill-opacity=\"0.7\"/>"
            }
            if !finite.isEmpty {
                let mean = finite.reduce(0, +) / Double(finite.count)
                body += "<line x1=\"\(f(frame.px(center - 0.3)))\" y1=\"\(f(frame.py(mean)))\" x2=\"\(f(frame.px(center + 0.3)))\" y2=\"\(f(frame.py(mean)))\" stroke=\"#333\" stroke-width=\"2\"/>"
            }
            body += "<text x=\"\(f(frame.px(center)))\" y=\"\(f(frame.height - frame.bottom + 18))\" font-size=\"12\" text-anchor=\"middle\">\(escape(name))</text>"
        }
        // Categories are labelled under their columns; the numeric x ticks of the frame are not used.
        frame.x = ([], 1)
        return frame.svg(title: title, subtitle: nil, xLabel: "", yLabel: yLabel, body: body)
    }
}
