/// A value produced by ``PickleMachine``.
///
/// Containers are not stored inline: a tuple, list or dictionary is an index into the machine's
/// arenas. Values are therefore flat (freeing them never recurses, however deep a hostile stream
/// nests its containers), and mutation through a memoised reference behaves as in Python: the
/// memo and the stack refer to the same list or dictionary.
enum PickleValue {
    case none
    case bool(Bool)
    case int(Int)
    case float(Double)
    case string(String)
    case bytes([UInt8])
    /// An index into ``PickleMachine/tuples``.
    case tuple(Int)
    /// An index into ``PickleMachine/lists``.
    case list(Int)
    /// An index into ``PickleMachine/dicts``.
    case dict(Int)
    /// A class or function from the allow-list (never anything else).
    case global(PickleGlobal)
    /// An index into ``PickleMachine/storages``: a persistent reference to a tensor storage.
    case storage(Int)
    /// An index into ``PickleMachine/tensors``: a tensor view on a storage.
    case tensor(Int)

    /// The Python type name, for error messages.
    var typeName: String {
        switch self {
        case .none: return "None"
        case .bool: return "bool"
        case .int: return "int"
        case .float: return "float"
        case .string: return "str"
        case .bytes: return "bytes"
        case .tuple: return "tuple"
        case .list: return "list"
        case .dict: return "dict"
        case .global(let g): return g.qualifiedName
        case .storage: return "storage"
        case .tensor: return "tensor"
        }
    }
}

/// A hashable dictionary key: Python's `str`, `int`, `bool` and `None`.
enum PickleKey: Hashable {
    case string(String)
    case int(Int)
    case bool(Bool)
    case none

    /// The key as one component of a dotted parameter path.
    var pathComponent: String {
        switch self {
        case .string(let s): return s
        case .int(let i): return String(i)
        case .bool(let b): return b ? "True" : "False"
        case .none: return "None"
        }
    }
}

/// A dictionary in insertion order, as Python's `dict` and `collections.OrderedDict` keep it.
struct PickleDict {
    private(set) var keys: [PickleKey] = []
    private(set) var values: [PickleKey: PickleValue] = [:]

    /// Sets `key` to `value`; a new key goes last, an existing one keeps its place.
    mutating func set(_ key: PickleKey, _ value: PickleValue) {
        if values.updateValue(value, forKey: key) == nil { keys.append(key) }
    }
}

/// The element type of a tensor storage or a `torch.dtype`.
enum TorchElementType: Equatable {
    case float32, float64, float16, bfloat16
    case int64, int32, int16, int8, uint8, bool
    case uint16, uint32, uint64, float8e4m3fn, float8e5m2

    /// The decoder for the little-endian bytes of this type.
    var safetensorsType: SafetensorsDType {
        switch self {
        case .float32: return .f32
        case .float64: return .f64
        case .float16: return .f16
        case .bfloat16: return .bf16
        case .int64: return .i64
        case .int32: return .i32
        case .int16: return .i16
        case .int8: return .i8
        case .uint8: return .u8
        case .bool: return .bool
        case .uint16: return .u16
        case .uint32: return .u32
        case .uint64: return .u64
        case .float8e4m3fn: return .f8e4m3
        case .float8e5m2: return .f8e5m2
        }
    }

    var byteSize: Int { safetensorsType.byteSize }
}

/// The globals a PyTorch checkpoint may name. Resolving a `GLOBAL` or `STACK_GLOBAL` opcode
/// yields one of these or fails; nothing is ever imported or called.
enum PickleGlobal: Equatable {
    /// `collections.OrderedDict`: the class of `state_dict()` results.
    case orderedDict
    /// `torch._utils._rebuild_tensor` (old files).
    case rebuildTensor
    /// `torch._utils._rebuild_tensor_v2`: a tensor view on a typed storage.
    case rebuildTensorV2
    /// `torch._utils._rebuild_tensor_v3`: a tensor view on an untyped storage, with its dtype
    /// (torch 2.x writes it for dtypes without a legacy storage class, such as `uint16`).
    case rebuildTensorV3
    /// `torch._utils._rebuild_parameter`: wraps a tensor as `nn.Parameter`.
    case rebuildParameter
    /// `torch._utils._rebuild_parameter_with_state`: the same, with Python attributes.
    case rebuildParameterWithState
    /// A typed storage class such as `torch.FloatStorage`.
    case storageType(TorchElementType)
    /// `torch.storage.UntypedStorage` (bytes).
    case untypedStorage
    /// A `torch.dtype` such as `torch.uint16`.
    case dtype(TorchElementType)

    /// Resolves `module.name` against the allow-list.
    init?(module: String, name: String) {
        switch (module, name) {
        case ("collections", "OrderedDict"): self = .orderedDict
        case ("torch._utils", "_rebuild_tensor"): self = .rebuildTensor
        case ("torch._utils", "_rebuild_tensor_v2"): self = .rebuildTensorV2
        case ("torch._utils", "_rebuild_tensor_v3"): self = .rebuildTensorV3
        case ("torch._utils", "_rebuild_parameter"): self = .rebuildParameter
        case ("torch._utils", "_rebuild_parameter_with_state"): self = .rebuildParameterWithState
        case ("torch.storage", "UntypedStorage"), ("torch", "UntypedStorage"): self = .untypedStorage
        case ("torch", _):
            if let type = PickleGlobal.storageTypes[name] {
                self = .storageType(type)
            } else if let type = PickleGlobal.dtypes[name] {
                self = .dtype(type)
            } else {
                return nil
            }
        default:
            return nil
        }
    }

    static let storageTypes: [String: TorchElementType] = [
        "FloatStorage": .float32, "DoubleStorage": .float64, "HalfStorage": .float16,
        "BFloat16Storage": .bfloat16, "LongStorage": .int64, "IntStorage": .int32,
        "ShortStorage": .int16, "CharStorage": .int8, "ByteStorage": .uint8, "BoolStorage": .bool,
    ]

    static let dtypes: [String: TorchElementType] = [
        "float32": .float32, "float64": .float64, "float16": .float16, "bfloat16": .bfloat16,
        "int64": .int64, "int32": .int32, "int16": .int16, "int8": .int8, "uint8": .uint8,
        "bool": .bool, "uint16": .uint16, "uint32": .uint32, "uint64": .uint64,
        "float8_e4m3fn": .float8e4m3fn, "float8_e5m2": .float8e5m2,
    ]

    /// The allow-list, for error messages.
    static let allowListDescription =
        "collections.OrderedDict, torch._utils._rebuild_tensor[_v2|_v3], torch._utils._rebuild_parameter[_with_state], "
        + "torch.<Type>Storage, torch.storage.UntypedStorage and torch.<dtype>"

    /// `module.name` as Python spells it.
    var qualifiedName: String {
        switch self {
        case .orderedDict: return "collections.OrderedDict"
        case .rebuildTensor: return "torch._utils._rebuild_tensor"
        case .rebuildTensorV2: return "torch._utils._rebuild_tensor_v2"
        case .rebuildTensorV3: return "torch._utils._rebuild_tensor_v3"
        case .rebuildParameter: return "torch._utils._rebuild_parameter"
        case .rebuildParameterWithState: return "torch._utils._rebuild_parameter_with_state"
        case .untypedStorage: return "torch.storage.UntypedStorage"
        case .storageType(let t):
            return "torch." + (PickleGlobal.storageTypes.first { $0.value == t }?.key ?? "Storage")
        case .dtype(let t):
            return "torch." + (PickleGlobal.dtypes.first { $0.value == t }?.key ?? "dtype")
        }
    }
}

/// A storage named by a persistent id: its bytes are the archive entry `<archive>/data/<key>`.
struct PickleStorage {
    /// The entry name under `data/`.
    var key: String
    /// The element type, or `nil` for an untyped (byte) storage.
    var elementType: TorchElementType?
    /// The declared length in elements (in bytes for an untyped storage).
    var count: Int

    /// The declared length in bytes, or `nil` if it overflows.
    var byteCount: Int? {
        let (n, overflow) = count.multipliedReportingOverflow(by: elementType?.byteSize ?? 1)
        return overflow ? nil : n
    }
}

/// A tensor view: `shape` and `strides` (in elements) from `offset` (in elements) of a storage.
struct PickleTensor {
    var storage: Int
    var elementType: TorchElementType
    var offset: Int
    var shape: [Int]
    var strides: [Int]
}
