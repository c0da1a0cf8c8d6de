import Foundation

/// Minimal, dependency-free SVG charts that open in any browser: a scatter plot (predicted vs
/// true, with the y = x diagonal) and line charts (learning curves).
public enum SVGPlot {
    /// One line of a line chart.
    public struct Series: Sendable {
        /// The legend label.
        public var name: String
        /// Points in drawing order; non-finite points are skipped.
        public var points: [(x: Double, y: Double)]
        /// A named series.
        public init(name: String, points: [(x: Double, y: Double)]) { self.name = name; self.points = points }
    }

    static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"]

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    /// Axis range padded by 5%, never empty.
    static func range(_ values: [Double]) -> (Double, Double) {
        let finite = values.filter(\.isFinite)
        guard var lo = finite.min(), var hi = finite.max() else { return (0, 1) }
        if hi - lo < 1e-12 { lo -= 0.5; hi += 0.5 }
        let pad = (hi - lo) * 0.05
        return (lo - pad, hi + pad)
    }

    static func frame(title: String, xLabel: String, yLabel: String, xr: (Double, Double), yr: (Double, Double),
                      width: Double, height: Double, body: String) -> String {
        let (l, r, t, b) = (70.0, 20.0, 40.0, 55.0)
        var ticks = ""
        for k in 0...4 {
            let fx = Double(k) / 4
            let xv = xr.0 + (xr.1 - xr.0) * fx, yv = yr.0 + (yr.1 - yr.0) * fx
            let px = l + fx * (width - l - r), py = height - b - fx * (height - t - b)
            ticks += "<line x1=\"\(px)\" y1=\"\(height - b)\" x2=\"\(px)\" y2=\"\(height - b + 5)\" stroke=\"#333\"/>"
            ticks += "<text x=\"\(px)\" y=\"\(height - b + 18)\" font-size=\"11\" text-anchor=\"middle\">\(String(format: "%.3g", xv))</text>"
            ticks += "<line x1=\"\(l - 5)\" y1=\"\(py)\" x2=\"\(l)\" y2=\"\(py)\" stroke=\"#333\"/>"
            ticks += "<text x=\"\(l - 8)\" y=\"\(py + 4)\" font-size=\"11\" text-anchor=\"end\">\(String(format: "%.3g", yv))</text>"
        }
        return """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" viewBox="0 0 \(Int(width)) \(Int(height))" font-family="sans-serif">
        <rect width="100%" height="100%" fill="white"/>
        <text x="\(width / 2)" y="22" font-size="15" text-anchor="middle">\(escape(title))</text>
        <rect x="\(l)" y="\(t)" width="\(width - l - r)" height="\(height - t - b)" fill="none" stroke="#333"/>
        \(ticks)
        <text x="\(l + (width - l - r) / 2)" y="\(height - 12)" font-size="13" text-anchor="middle">\(escape(xLabel))</text>
        <text x="16" y="\(t + (height - t - b) / 2)" font-size="13" text-anchor="middle" transform="rotate(-90 16 \(t + (height - t - b) / 2))">\(escape(yLabel))</text>
        \(body)
        </svg>
        """
    }

    /// A scatter plot of `y` against `x` with the y = x diagonal.
    public static func scatter(x: [Double], y: [Double], title: String, xLabel: String, yLabel: String,
                               width: Double = 560, height: Double = 460) -> String {
        let xr = range(x + y), yr = xr
        let (l, r, t, b) = (70.0, 20.0, 40.0, 55.0)
        func px(_ v: Double) -> Double { l + (v - xr.0) / (xr.1 - xr.0) * (width - l - r) }
        func py(_ v: Double) -> Double { height - b - (v - yr.0) / (yr.1 - yr.0) * (height - t - b) }
        var body = "<line x1=\"\(px(xr.0))\" y1=\"\(py(xr.0))\" x2=\"\(px(xr.1))\" y2=\"\(py(xr.1))\" stroke=\"#999\" stroke-dasharray=\"4 3\"/>"
        for (a, c) in zip(x, y) where a.isFinite && c.isFinite {
            body += "<circle cx=\"\(String(format: "%.1f", px(a)))\" cy=\"\(String(format: "%.1f", py(c)))\" r=\"2.5\" fill=\"#1f77b4\" fill-opacity=\"0.6\"/>"
        }
        return frame(title: title, xLabel: xLabel, yLabel: yLabel, xr: xr, yr: yr, width: width, height: height, body: body)
    }

    /// A line chart with a legend.
    public static func lines(_ series: [Series], title: String, xLabel: String, yLabel: String,
                             width: Double = 560, height: Double = 400) -> String {
        let xs = series.flatMap { $0.points.map(\.x) }, ys = series.flatMap { $0.points.map(\.y) }
        let xr = range(xs), yr = range(ys)
        let (l, r, t, b) = (70.0, 20.0, 40.0, 55.0)
        func px(_ v: Double) -> Double { l + (v - xr.0) / (xr.1 - xr.0) * (width - l - r) }
        func py(_ v: Double) -> Double { height - b - (v - yr.0) / (yr.1 - yr.0) * (height - t - b) }
        var body = ""
        for (k, s) in series.enumerated() {
            let color = palette[k % palette.count]
            let pts = s.points.filter { $0.x.isFinite && $0.y.isFinite }
                .map { String(format: "%.1f,%.1f", px($0.x), py($0.y)) }.joined(separator: " ")
            body += "<polyline points=\"\(pts)\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\"/>"
            body += "<text x=\"\(width - r - 8)\" y=\"\(t + 16 + Double(k) * 16)\" font-size=\"12\" text-anchor=\"end\" fill=\"\(color)\">\(escape(s.name))</text>"
        }
        return frame(title: title, xLabel: xLabel, yLabel: yLabel, xr: xr, yr: yr, width: width, height: height, body: body)
    }
}
