import Foundation
import Datasets
import TensorIO

/// A comma-separated table read for an import: RFC 4180 quoting (fields in double quotes may hold
/// commas, newlines and doubled quotes `""`), `\n` or `\r\n` line ends, an optional UTF-8 byte
/// order mark, a header line naming the columns, and blank lines ignored.
///
/// Every record must have as many fields as the header; a quote that is never closed is an error.
/// Both name the file and the line (1-based, of the record's first line).
struct ImportCSV {
    /// The column names of the header line.
    let header: [String]
    /// The records after the header.
    let rows: [[String]]
    /// The line (1-based) on which each record starts.
    let lines: [Int]

    /// The index of the column named `name`, if any.
    func column(_ name: String) -> Int? { header.firstIndex(of: name) }

    /// Reads a CSV file (gzip-compressed or not).
    static func read(_ url: URL) throws -> ImportCSV {
        let data: Data
        do {
            data = try Gzip.readFile(at: url)
        } catch {
            throw ZooError.importFailed(file: url.path, detail: "\(error)".replacingOccurrences(of: url.path + ": ", with: ""))
        }
        return try parse(data, source: url.path)
    }

    /// Parses CSV bytes.
    static func parse(_ data: Data, source: String) throws -> ImportCSV {
        var records: [[String]] = []
        var lines: [Int] = []
        try forEachRecord(data, source: source) { line, fields in
            records.append(fields)
            lines.append(line)
        }
        guard let header = records.first else { throw ZooError.importFailed(file: source, detail: "the CSV file is empty (no header line)") }
        // A repeated column name would make one of the two columns invisible.
        var names: Set<String> = []
        for name in header where !names.insert(name).inserted {
            throw ZooError.importFailed(file: source, detail: "line \(lines[0]): the column '\(name)' appears twice in the header")
        }
        for (r, l) in zip(records.dropFirst(), lines.dropFirst()) where r.count != header.count {
            throw ZooError.importFailed(file: source, detail: "line \(l): \(r.count) fields, but the header has \(header.count)")
        }
        return ImportCSV(header: header, rows: Array(records.dropFirst()), lines: Array(lines.dropFirst()))
    }

    /// Calls `body(line, fields)` for each record, in order (the header included).
    static func forEachRecord(_ data: Data, source: String, _ body: (Int, [String]) throws -> Void) throws {
        try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            let bytes = raw.bindMemory(to: UInt8.self)
            var i = 0
            let n = bytes.count
            if n >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { i = 3 }
            var line = 1
            var fields: [String] = []
            var field: [UInt8] = []
            var recordLine = 1
            var inQuotes = false
            var quotedField = false
            var recordHasContent = false
            func endField() {
                fields.append(String(decoding: field, as: UTF8.self))
                field.removeAll(keepingCapacity: true)
                quotedField = false
            }
            func endRecord() throws {
                endField()
                if recordHasContent || fields.count > 1 || !(fields.first ?? "").isEmpty {
                    try body(recordLine, fields)
                }
                fields.removeAll(keepingCapacity: true)
                recordHasContent = false
            }
            while i < n {
                let b = bytes[i]
                if inQuotes {
                    if b == 0x22 {
                        if i + 1 < n, bytes[i + 1] == 0x22 {
                            field.append(0x22)
                            i += 2
                            continue
                        }
                        inQuotes = false
                    } else {
                        if b == 0x0A { line += 1 }
                        field.append(b)
                    }
                    i += 1
                    continue
                }
                switch b {
                case 0x22 where field.isEmpty && !quotedField:
                    inQuotes = true
                    quotedField = true
                    recordHasContent = true
                case 0x2C:
                    endField()
                    recordHasContent = true
                case 0x0A:
                    try endRecord()
                    line += 1
                    recordLine = line
                case 0x0D where i + 1 < n && bytes[i + 1] == 0x0A:
                    break
                default:
                    // A stray quote inside an unquoted field is kept as a character.
                    field.append(b)
                    recordHasContent = true
                }
                i += 1
            }
            if inQuotes {
                throw ZooError.importFailed(file: source, detail: "line \(recordLine): a quoted field is never closed")
            }
            if recordHasContent || !field.isEmpty || !fields.isEmpty { try endRecord() }
        }
    }
}

/// A metrics table for imported checkpoints: a CSV file (optionally gzip-compressed) or a JSON
/// file, as a list of rows by column name.
///
/// JSON forms: an array of objects (`[{"file": "a.pt", "test_accuracy": 0.9, …}, …]`), or an
/// object keyed by file name whose values are objects or plain numbers (the test accuracy):
/// `{"a.pt": 0.91, "b.pt": {"test_accuracy": 0.88, "optimizer": "adam"}}`. Numbers, strings and
/// booleans become text; nested values are ignored.
struct ImportMetricsTable {
    var rows: [[String: String]]

    static func read(_ url: URL) throws -> ImportMetricsTable {
        let name = url.lastPathComponent.lowercased()
        if name.hasSuffix(".json") || name.hasSuffix(".json.gz") {
            let data: Data
            do { data = try Gzip.readFile(at: url) } catch {
                throw ZooError.importFailed(file: url.path, detail: "\(error)")
            }
            // A file name given twice would silently keep one of the two rows.
            if let problem = StructureScan.jsonProblem(data, maximumDepth: ZooFileSystem.maximumJSONDepth) {
                throw ZooError.importFailed(file: url.path, detail: "\(problem)")
            }
            let object: Any
            do { object = try JSONSerialization.jsonObject(with: data) } catch {
                throw ZooError.importFailed(file: url.path, detail: "not valid JSON: \(error.localizedDescription)")
            }
            func text(_ v: Any) -> String? {
                if let s = v as? String { return s }
                if let b = v as? Bool, !(v is Int), !(v is Double) { return b ? "true" : "false" }
                if let n = v as? NSNumber { return n.stringValue }
                if let d = v as? Double { return "\(d)" }
                if let i = v as? Int { return "\(i)" }
                return nil
            }
            func flat(_ o: [String: Any]) -> [String: String] {
                var r: [String: String] = [:]
                for (k, v) in o { if let t = text(v) { r[k] = t } }
                return r
            }
            if let list = object as? [Any] {
                return ImportMetricsTable(rows: try list.enumerated().map { i, v in
                    guard let o = v as? [String: Any] else {
                        throw ZooError.importFailed(file: url.path, detail: "element \(i) of the array is not an object")
                    }
                    return flat(o)
                })
            }
            if let dict = object as? [String: Any] {
                return ImportMetricsTable(rows: dict.keys.sorted().map { key in
                    var row: [String: String]
                    if let o = dict[key] as? [String: Any] { row = flat(o) } else {
                        row = [:]
                        if let t = text(dict[key]!) { row["test_accuracy"] = t }
                    }
                    row["file"] = key
                    return row
                })
            }
            throw ZooError.importFailed(file: url.path, detail: "expected a JSON array of objects or an object keyed by file name")
        }
        let csv = try ImportCSV.read(url)
        return ImportMetricsTable(rows: csv.rows.map { Dictionary(zip(csv.header, $0), uniquingKeysWith: { a, _ in a }) })
    }

    /// The columns that name a checkpoint file, in order of preference.
    static let fileColumns = ["file", "ckpt_file", "filename", "path", "checkpoint"]

    /// Rows by the last path component of their file column (and by that name without extension).
    func byFileName(source: String) throws -> [String: [String: String]] {
        var result: [String: [String: String]] = [:]
        var firstRow: [String: Int] = [:]
        for (i, row) in rows.enumerated() {
            guard let column = ImportMetricsTable.fileColumns.first(where: { row[$0] != nil }) else {
                throw ZooError.importFailed(file: source, detail: "row \(i + 1) has no file column (\(ImportMetricsTable.fileColumns.joined(separator: ", ")))")
            }
            let base = (row[column]! as NSString).lastPathComponent
            // Two rows for one checkpoint file: which one holds its metrics is unknowable.
            if let previous = firstRow[base] {
                throw ZooError.importFailed(file: source, detail: "rows \(previous + 1) and \(i + 1) both describe '\(base)'")
            }
            firstRow[base] = i
            result[base] = row
            let stem = (base as NSString).deletingPathExtension
            if result[stem] == nil { result[stem] = row }
        }
        return result
    }
}

/// Metric and bookkeeping columns of a metrics row (never hyper-parameters).
enum ImportMetricColumns {
    static let testAccuracy = ["test_accuracy", "test_top1_accuracy", "test_acc", "accuracy", "acc"]
    static let testLoss = ["test_loss"]
    static let trainAccuracy = ["train_accuracy", "train_top1_accuracy", "train_acc"]
    static let trainLoss = ["train_loss"]
    static let epoch = ["epoch", "ckpt_epoch", "step"]
    static let member = ["member", "run_id", "run", "modeldir"]
    static let other = ["row", "diverged", "image_index", "label", "laststep", "Unnamed: 0", ""]

    /// Every column that describes a checkpoint rather than its member.
    static var all: Set<String> {
        Set(testAccuracy + testLoss + trainAccuracy + trainLoss + epoch + other + ImportMetricsTable.fileColumns + ["tensor_prefix", "shard"])
    }

    static func float(_ row: [String: String], _ names: [String]) -> Float? {
        for n in names { if let s = row[n], let v = parseNumber(s) { return Float(v) } }
        return nil
    }

    /// The row's hyper-parameter columns (everything but the metric and bookkeeping columns).
    static func config(_ row: [String: String]) -> [String: String] {
        let skip = all
        return row.filter { !skip.contains($0.key) && !$0.value.isEmpty }
    }
}
