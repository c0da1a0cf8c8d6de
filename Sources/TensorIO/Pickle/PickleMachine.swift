/// A strict, non-executing interpreter for the pickle streams that `torch.save` writes.
///
/// It understands the opcodes of protocol 2 that PyTorch state_dicts use (plus the few protocol
/// 3–5 additions with the same meaning: `FRAME`, `MEMOIZE`, `STACK_GLOBAL`, the unicode/bytes
/// length variants), and resolves `GLOBAL`/`STACK_GLOBAL` only against ``PickleGlobal``'s
/// allow-list. Calls (`REDUCE`, `NEWOBJ`) are interpreted by hand for the allowed callables
/// only; there is no import, no attribute lookup and no code execution, whatever the stream says.
///
/// Every problem is a thrown ``TensorIOError``: `.unsupportedPickle` for an opcode or global
/// outside the subset, `.malformedPickle` for anything structurally wrong (end of stream, stack
/// underflow, a missing `MARK` or memo slot, arguments of the wrong type).
///
/// The semantics follow the opcode descriptions of Python's `pickletools` module; in particular
/// `MARK` starts a fresh stack region, so an opcode cannot pop values pushed before the last mark
/// (Python keeps a stack of stacks for this).
struct PickleMachine {
    private let bytes: [UInt8]
    private let source: String?
    /// The name of the pickle inside its archive (`archive/data.pkl`), for error messages.
    private let streamName: String
    private var position = 0
    private var opcodeStart = 0
    private var opcode: UInt8 = 0
    private var stack: [PickleValue] = []
    private var marks: [Int] = []
    private var memo: [Int: PickleValue] = [:]

    private(set) var tuples: [[PickleValue]] = []
    private(set) var lists: [[PickleValue]] = []
    private(set) var dicts: [PickleDict] = []
    private(set) var storages: [PickleStorage] = []
    private(set) var tensors: [PickleTensor] = []
    private var storageIndexByKey: [String: Int] = [:]

    /// The most protocol the reader accepts (Python 3.8+ writes at most 5).
    static let highestProtocol = 5

    init(bytes: [UInt8], source: String?, streamName: String) {
        self.bytes = bytes
        self.source = source
        self.streamName = streamName
    }

    /// Runs the stream to its `STOP` and returns the value it produced.
    mutating func run() throws -> PickleValue {
        while true {
            opcodeStart = position
            opcode = try readByte()
            switch opcode {
            case 0x80: // PROTO
                let version = Int(try readByte())
                guard (2...PickleMachine.highestProtocol).contains(version) else {
                    throw unsupported("protocol \(version) (2 to \(PickleMachine.highestProtocol) are read)")
                }
            case 0x95: // FRAME: a hint for buffered readers; the length must still fit.
                let length = try readUInt(bytes: 8)
                guard length <= UInt64(bytes.count - position) else { throw malformed("FRAME of \(length) bytes runs past the end") }
            case 0x2E: // STOP
                return try pop()
            case 0x28: // MARK
                marks.append(stack.count)
            case 0x7D: // EMPTY_DICT
                dicts.append(PickleDict())
                stack.append(.dict(dicts.count - 1))
            case 0x5D: // EMPTY_LIST
                lists.append([])
                stack.append(.list(lists.count - 1))
            case 0x29: // EMPTY_TUPLE
                push(tuple: [])
            case 0x74: // TUPLE
                push(tuple: try popMark())
            case 0x85, 0x86, 0x87: // TUPLE1, TUPLE2, TUPLE3
                let n = Int(opcode - 0x84)
                var items: [PickleValue] = []
                for _ in 0..<n { items.append(try pop()) }
                push(tuple: items.reversed())
            case 0x6C: // LIST
                lists.append(try popMark())
                stack.append(.list(lists.count - 1))
            case 0x64: // DICT
                let items = try popMark()
                var dict = PickleDict()
                try insert(items, into: &dict)
                dicts.append(dict)
                stack.append(.dict(dicts.count - 1))
            case 0x61: // APPEND
                let value = try pop()
                let index = try topList()
                lists[index].append(value)
            case 0x65: // APPENDS
                let items = try popMark()
                let index = try topList()
                lists[index].append(contentsOf: items)
            case 0x73: // SETITEM
                let value = try pop()
                let key = try pop()
                let index = try topDict()
                let hashableKey = try hashable(key)
                dicts[index].set(hashableKey, value)
            case 0x75: // SETITEMS
                let items = try popMark()
                let index = try topDict()
                var dict = dicts[index]
                dicts[index] = PickleDict()   // keep `dict` uniquely referenced while it grows
                try insert(items, into: &dict)
                dicts[index] = dict
            case 0x58: // BINUNICODE
                stack.append(.string(try readString(length: try readUInt(bytes: 4))))
            case 0x8C: // SHORT_BINUNICODE
                stack.append(.string(try readString(length: UInt64(try readByte()))))
            case 0x8D: // BINUNICODE8
                stack.append(.string(try readString(length: try readUInt(bytes: 8))))
            case 0x43: // SHORT_BINBYTES
                stack.append(.bytes(try readBytes(length: UInt64(try readByte()))))
            case 0x42: // BINBYTES
                stack.append(.bytes(try readBytes(length: try readUInt(bytes: 4))))
            case 0x8E: // BINBYTES8
                stack.append(.bytes(try readBytes(length: try readUInt(bytes: 8))))
            case 0x4A: // BININT: signed 4-byte little-endian
                stack.append(.int(Int(Int32(truncatingIfNeeded: try readUInt(bytes: 4)))))
            case 0x4B: // BININT1
                stack.append(.int(Int(try readByte())))
            case 0x4D: // BININT2
                stack.append(.int(Int(try readUInt(bytes: 2))))
            case 0x8A: // LONG1
                stack.append(.int(try readLong(length: UInt64(try readByte()))))
            case 0x8B: // LONG4
                let length = Int32(truncatingIfNeeded: try readUInt(bytes: 4))
                guard length >= 0 else { throw malformed("LONG4 with negative length \(length)") }
                stack.append(.int(try readLong(length: UInt64(length))))
            case 0x47: // BINFLOAT: 8-byte big-endian IEEE double
                let raw = try readBytes(length: 8)
                let bits = raw.reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
                stack.append(.float(Double(bitPattern: bits)))
            case 0x4E: // NONE
                stack.append(.none)
            case 0x88: // NEWTRUE
                stack.append(.bool(true))
            case 0x89: // NEWFALSE
                stack.append(.bool(false))
            case 0x71: // BINPUT
                memo[Int(try readByte())] = try top()
            case 0x72: // LONG_BINPUT
                memo[Int(try readUInt(bytes: 4))] = try top()
            case 0x94: // MEMOIZE
                memo[memo.count] = try top()
            case 0x68: // BINGET
                stack.append(try memoValue(Int(try readByte())))
            case 0x6A: // LONG_BINGET
                stack.append(try memoValue(Int(try readUInt(bytes: 4))))
            case 0x63: // GLOBAL: "module\nname\n"
                let module = try readLine()
                let name = try readLine()
                stack.append(.global(try resolve(module: module, name: name)))
            case 0x93: // STACK_GLOBAL
                let name = try pop()
                let module = try pop()
                guard case .string(let n) = name, case .string(let m) = module else {
                    throw malformed("STACK_GLOBAL needs two strings, found \(module.typeName) and \(name.typeName)")
                }
                stack.append(.global(try resolve(module: m, name: n)))
            case 0x52: // REDUCE: callable(*args)
                let arguments = try pop()
                let callable = try pop()
                guard case .tuple(let args) = arguments else {
                    throw malformed("REDUCE arguments are a \(arguments.typeName), not a tuple")
                }
                stack.append(try call(callable, tuples[args]))
            case 0x81: // NEWOBJ: cls.__new__(cls, *args)
                let arguments = try pop()
                let cls = try pop()
                guard case .tuple(let args) = arguments else {
                    throw malformed("NEWOBJ arguments are a \(arguments.typeName), not a tuple")
                }
                guard case .global(.orderedDict) = cls, tuples[args].isEmpty else {
                    throw unsupported("NEWOBJ of \(cls.typeName) with \(tuples[args].count) arguments (only OrderedDict() is built)")
                }
                dicts.append(PickleDict())
                stack.append(.dict(dicts.count - 1))
            case 0x62: // BUILD: obj.__setstate__(state)
                let state = try pop()
                let object = try top()
                guard case .dict = object else {
                    throw unsupported("BUILD on a \(object.typeName) (only dictionaries, whose attributes are ignored)")
                }
                // An OrderedDict's state holds Python attributes (state_dict's `_metadata`), not
                // items: it is dropped. Nothing else is accepted as state.
                switch state {
                case .dict, .none, .tuple: break
                default: throw malformed("BUILD state is a \(state.typeName)")
                }
            case 0x51: // BINPERSID
                stack.append(try persistentLoad(try pop()))
            default:
                throw unsupported("opcode 0x\(String(opcode, radix: 16, uppercase: true))\(PickleMachine.opcodeName(opcode).map { " (\($0))" } ?? "") is not in the supported subset")
            }
        }
    }

    // MARK: Stack

    private mutating func push(tuple items: [PickleValue]) {
        tuples.append(items)
        stack.append(.tuple(tuples.count - 1))
    }

    /// The bottom of the region the current opcode may pop from.
    private var floor: Int { marks.last ?? 0 }

    private mutating func pop() throws -> PickleValue {
        guard stack.count > floor else { throw malformed("stack underflow") }
        return stack.removeLast()
    }

    private func top() throws -> PickleValue {
        guard stack.count > floor, let value = stack.last else { throw malformed("stack underflow") }
        return value
    }

    private mutating func popMark() throws -> [PickleValue] {
        guard let mark = marks.popLast() else { throw malformed("no MARK to pop to") }
        let items = Array(stack[mark...])
        stack.removeSubrange(mark...)
        return items
    }

    private func topList() throws -> Int {
        let value = try top()
        guard case .list(let index) = value else { throw unsupported("APPEND to a \(value.typeName), not a list") }
        return index
    }

    private func topDict() throws -> Int {
        let value = try top()
        guard case .dict(let index) = value else { throw unsupported("SETITEM on a \(value.typeName), not a dict") }
        return index
    }

    private func insert(_ items: [PickleValue], into dict: inout PickleDict) throws {
        guard items.count % 2 == 0 else { throw malformed("odd number (\(items.count)) of keys and values") }
        var i = 0
        while i < items.count {
            dict.set(try hashable(items[i]), items[i + 1])
            i += 2
        }
    }

    private func hashable(_ value: PickleValue) throws -> PickleKey {
        switch value {
        case .string(let s): return .string(s)
        case .int(let i): return .int(i)
        case .bool(let b): return .bool(b)
        case .none: return .none
        default: throw unsupported("dictionary key of type \(value.typeName) (str, int, bool and None are read)")
        }
    }

    private func memoValue(_ index: Int) throws -> PickleValue {
        guard let value = memo[index] else { throw malformed("memo slot \(index) read before it was written") }
        return value
    }

    // MARK: Globals and calls

    private func resolve(module: String, name: String) throws -> PickleGlobal {
        guard let global = PickleGlobal(module: module, name: name) else {
            throw unsupported(
                "global '\(module).\(name)' is not allowed: nothing is imported or run, and only \(PickleGlobal.allowListDescription) "
                + "are understood (a pickled model class means the file holds a whole model: save model.state_dict() instead)")
        }
        return global
    }

    /// Applies an allowed callable to `args`, by hand.
    private mutating func call(_ callable: PickleValue, _ args: [PickleValue]) throws -> PickleValue {
        guard case .global(let function) = callable else {
            throw unsupported("REDUCE calls a \(callable.typeName), which is not callable here")
        }
        switch function {
        case .orderedDict:
            var dict = PickleDict()
            if let items = args.first {
                // OrderedDict(list_of_pairs)
                guard args.count == 1, case .list(let list) = items else {
                    throw malformed("OrderedDict takes no arguments or one list of pairs")
                }
                for pair in lists[list] {
                    guard case .tuple(let t) = pair, tuples[t].count == 2 else {
                        throw malformed("OrderedDict items must be (key, value) tuples")
                    }
                    dict.set(try hashable(tuples[t][0]), tuples[t][1])
                }
            }
            dicts.append(dict)
            return .dict(dicts.count - 1)
        case .rebuildTensor, .rebuildTensorV2, .rebuildTensorV3:
            return try rebuildTensor(function, args)
        case .rebuildParameter, .rebuildParameterWithState:
            let expected = function == .rebuildParameter ? 3 : 4
            guard args.count == expected, case .tensor = args[0] else {
                throw malformed("\(function.qualifiedName) expects (tensor, requires_grad, hooks\(expected == 4 ? ", state" : "")), found \(describe(args))")
            }
            return args[0]
        case .storageType, .untypedStorage, .dtype:
            throw unsupported("\(function.qualifiedName) is not called by the checkpoints this reader accepts")
        }
    }

    /// `_rebuild_tensor(storage, offset, size, stride)`,
    /// `_rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks[, metadata])` and
    /// `_rebuild_tensor_v3(storage, offset, size, stride, requires_grad, hooks, dtype[, metadata])`.
    private mutating func rebuildTensor(_ function: PickleGlobal, _ args: [PickleValue]) throws -> PickleValue {
        let counts: ClosedRange<Int>
        switch function {
        case .rebuildTensor: counts = 4...4
        case .rebuildTensorV2: counts = 6...7
        default: counts = 7...8
        }
        func bad(_ what: String) -> TensorIOError {
            malformed("\(function.qualifiedName): \(what); arguments were \(describe(args))")
        }
        guard counts.contains(args.count) else { throw bad("expected \(counts.lowerBound)…\(counts.upperBound) arguments") }
        guard case .storage(let storageIndex) = args[0] else { throw bad("the first argument is not a storage") }
        guard case .int(let offset) = args[1] else { throw bad("storage_offset is not an int") }
        guard let shape = intTuple(args[2]) else { throw bad("size is not a tuple of ints") }
        guard let strides = intTuple(args[3]) else { throw bad("stride is not a tuple of ints") }
        if function != .rebuildTensor {
            guard case .bool = args[4] else { throw bad("requires_grad is not a bool") }
        }
        let storage = storages[storageIndex]
        let elementType: TorchElementType
        if function == .rebuildTensorV3 {
            guard case .global(.dtype(let dtype)) = args[6] else { throw bad("dtype is not a torch dtype") }
            if let typed = storage.elementType, typed != dtype {
                throw bad("dtype \(args[6].typeName) does not match the storage's element type")
            }
            elementType = dtype
        } else {
            guard let typed = storage.elementType else { throw bad("an untyped storage needs _rebuild_tensor_v3") }
            elementType = typed
        }
        tensors.append(PickleTensor(storage: storageIndex, elementType: elementType, offset: offset,
                                    shape: shape, strides: strides))
        return .tensor(tensors.count - 1)
    }

    private func intTuple(_ value: PickleValue) -> [Int]? {
        guard case .tuple(let t) = value else { return nil }
        var out: [Int] = []
        for item in tuples[t] {
            guard case .int(let i) = item else { return nil }
            out.append(i)
        }
        return out
    }

    /// `persistent_load(('storage', storage_type, key, location, numel))`.
    private mutating func persistentLoad(_ pid: PickleValue) throws -> PickleValue {
        guard case .tuple(let t) = pid else {
            throw unsupported("persistent id is a \(pid.typeName), not a ('storage', …) tuple")
        }
        let items = tuples[t]
        guard items.count == 5, case .string("storage") = items[0] else {
            throw unsupported("persistent id \(describe(items)) is not ('storage', type, key, location, numel)")
        }
        let elementType: TorchElementType?
        switch items[1] {
        case .global(.storageType(let type)): elementType = type
        case .global(.untypedStorage): elementType = nil
        default: throw malformed("persistent id names a \(items[1].typeName), not a storage type")
        }
        guard case .string(let key) = items[2], case .string = items[3], case .int(let count) = items[4], count >= 0 else {
            throw malformed("persistent id \(describe(items)) needs (str key, str location, int numel ≥ 0)")
        }
        let storage = PickleStorage(key: key, elementType: elementType, count: count)
        if let existing = storageIndexByKey[key] {
            let known = storages[existing]
            guard known.elementType == storage.elementType, known.count == storage.count else {
                throw malformed("storage '\(key)' is declared twice with different types or sizes")
            }
            return .storage(existing)
        }
        storages.append(storage)
        storageIndexByKey[key] = storages.count - 1
        return .storage(storages.count - 1)
    }

    // MARK: Reading the stream

    private mutating func readByte() throws -> UInt8 {
        guard position < bytes.count else { throw truncated() }
        defer { position += 1 }
        return bytes[position]
    }

    /// An unsigned little-endian integer of `count` bytes (1…8).
    private mutating func readUInt(bytes count: Int) throws -> UInt64 {
        guard bytes.count - position >= count else { throw truncated() }
        var value: UInt64 = 0
        for i in (0..<count).reversed() { value = value << 8 | UInt64(bytes[position + i]) }
        position += count
        return value
    }

    private mutating func readBytes(length: UInt64) throws -> [UInt8] {
        guard length <= UInt64(bytes.count - position) else { throw truncated() }
        let n = Int(length)
        defer { position += n }
        return Array(bytes[position..<(position + n)])
    }

    private mutating func readString(length: UInt64) throws -> String {
        let raw = try readBytes(length: length)
        guard let s = String(validating: raw, as: UTF8.self) else { throw malformed("string is not valid UTF-8") }
        return s
    }

    /// A `GLOBAL` argument: printable ASCII up to a newline, at most 256 bytes.
    private mutating func readLine() throws -> String {
        var raw: [UInt8] = []
        while true {
            let b = try readByte()
            if b == 0x0A { break }
            guard b >= 0x20, b < 0x7F, raw.count < 256 else { throw malformed("GLOBAL name is not a short line of ASCII") }
            raw.append(b)
        }
        return String(decoding: raw, as: UTF8.self)
    }

    /// A two's-complement little-endian integer of `length` bytes; it must fit in `Int`.
    private mutating func readLong(length: UInt64) throws -> Int {
        let raw = try readBytes(length: length)
        guard let last = raw.last else { return 0 }
        let negative = last & 0x80 != 0
        let width = MemoryLayout<Int>.size
        if raw.count > width {
            let fill: UInt8 = negative ? 0xFF : 0x00
            guard raw[width...].allSatisfy({ $0 == fill }), (raw[width - 1] & 0x80 != 0) == negative else {
                throw unsupported("integer of \(raw.count) bytes does not fit in 64 bits")
            }
        }
        // Start from the sign fill, so that fewer than 8 bytes are sign-extended.
        var value: UInt64 = negative ? ~0 : 0
        for b in raw.prefix(width).reversed() { value = value << 8 | UInt64(b) }
        return Int(bitPattern: UInt(value))
    }

    // MARK: Errors

    private func location() -> String {
        let name = PickleMachine.opcodeName(opcode).map { " \($0)" } ?? ""
        return "\(streamName) byte \(opcodeStart)\(name)"
    }

    private func malformed(_ detail: String) -> TensorIOError {
        TensorIOError.malformedPickle(file: source, detail: "\(location()): \(detail)")
    }

    private func unsupported(_ detail: String) -> TensorIOError {
        TensorIOError.unsupportedPickle(file: source, detail: "\(location()): \(detail)")
    }

    private func truncated() -> TensorIOError {
        TensorIOError.malformedPickle(
            file: source, detail: "\(location()): the stream ends after \(bytes.count) bytes, before its STOP opcode")
    }

    /// A short rendering of values for error messages.
    private func describe(_ values: [PickleValue]) -> String {
        "(" + values.prefix(8).map { value -> String in
            switch value {
            case .int(let i): return String(i)
            case .string(let s): return "'\(s.prefix(40))'"
            case .bool(let b): return b ? "True" : "False"
            case .tuple(let t): return intTuple(value).map { "\($0)" } ?? "tuple of \(tuples[t].count)"
            default: return value.typeName
            }
        }.joined(separator: ", ") + (values.count > 8 ? ", …" : "") + ")"
    }

    /// The `pickletools` name of an opcode, if it has one.
    static func opcodeName(_ code: UInt8) -> String? {
        opcodeNames[code]
    }

    private static let opcodeNames: [UInt8: String] = [
        0x28: "MARK", 0x2E: "STOP", 0x30: "POP", 0x31: "POP_MARK", 0x32: "DUP", 0x46: "FLOAT",
        0x49: "INT", 0x4A: "BININT", 0x4B: "BININT1", 0x4C: "LONG", 0x4D: "BININT2", 0x4E: "NONE",
        0x50: "PERSID", 0x51: "BINPERSID", 0x52: "REDUCE", 0x53: "STRING", 0x54: "BINSTRING",
        0x55: "SHORT_BINSTRING", 0x56: "UNICODE", 0x58: "BINUNICODE", 0x61: "APPEND", 0x62: "BUILD",
        0x63: "GLOBAL", 0x64: "DICT", 0x7D: "EMPTY_DICT", 0x65: "APPENDS", 0x67: "GET", 0x68: "BINGET",
        0x69: "INST", 0x6A: "LONG_BINGET", 0x6C: "LIST", 0x5D: "EMPTY_LIST", 0x6F: "OBJ", 0x70: "PUT",
        0x71: "BINPUT", 0x72: "LONG_BINPUT", 0x73: "SETITEM", 0x74: "TUPLE", 0x29: "EMPTY_TUPLE",
        0x75: "SETITEMS", 0x47: "BINFLOAT", 0x80: "PROTO", 0x81: "NEWOBJ", 0x82: "EXT1", 0x83: "EXT2",
        0x84: "EXT4", 0x85: "TUPLE1", 0x86: "TUPLE2", 0x87: "TUPLE3", 0x88: "NEWTRUE", 0x89: "NEWFALSE",
        0x8A: "LONG1", 0x8B: "LONG4", 0x42: "BINBYTES", 0x43: "SHORT_BINBYTES", 0x8C: "SHORT_BINUNICODE",
        0x8D: "BINUNICODE8", 0x8E: "BINBYTES8", 0x8F: "EMPTY_SET", 0x90: "ADDITEMS", 0x91: "FROZENSET",
        0x92: "NEWOBJ_EX", 0x93: "STACK_GLOBAL", 0x94: "MEMOIZE", 0x95: "FRAME", 0x96: "BYTEARRAY8",
        0x97: "NEXT_BUFFER", 0x98: "READONLY_BUFFER",
    ]
}
