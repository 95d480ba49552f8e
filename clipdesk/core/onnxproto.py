"""The few parts of the ONNX protobuf format ClipDesk reads and writes itself.

``onnx`` is not a runtime dependency (it would add ~40 MB and a native
extension to every installer, and the installers exclude it), and ONNX Runtime
can neither list a model's external-data files before opening them nor edit a
graph. Both jobs need only the protobuf wire format and a handful of field
numbers from ``onnx/onnx.proto`` (ONNX IR version 3 and later), which are
stable by protobuf's own rules: fields are never renumbered.

Reading walks a message as ``(field number, wire type, value)`` triples over a
buffer (bytes or a memory map) without copying tensor payloads. Writing
produces the bytes of new messages; unchanged submessages are copied through
as the spans they were read from, so a rewritten 500 MB model costs one pass
over its bytes.

Every reader raises ValueError on malformed input.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

# -- field numbers (onnx/onnx.proto) ---------------------------------------------

MODEL_IR_VERSION, MODEL_OPSET_IMPORT, MODEL_GRAPH = 1, 8, 7
MODEL_METADATA_PROPS, MODEL_TRAINING_INFO, MODEL_FUNCTIONS = 14, 20, 25
OPSET_DOMAIN, OPSET_VERSION = 1, 2

GRAPH_NODE, GRAPH_NAME, GRAPH_INITIALIZER, GRAPH_INPUT, GRAPH_OUTPUT = 1, 2, 5, 11, 12
GRAPH_VALUE_INFO, GRAPH_SPARSE_INITIALIZER = 13, 15

NODE_INPUT, NODE_OUTPUT, NODE_NAME, NODE_OP_TYPE, NODE_ATTRIBUTE, NODE_DOMAIN = 1, 2, 3, 4, 5, 7

ATTR_NAME, ATTR_F, ATTR_I, ATTR_S, ATTR_T, ATTR_G = 1, 2, 3, 4, 5, 6
ATTR_FLOATS, ATTR_INTS, ATTR_TENSORS, ATTR_GRAPHS, ATTR_TYPE = 7, 8, 10, 11, 20
ATTR_SPARSE_TENSOR, ATTR_SPARSE_TENSORS = 22, 23
#: AttributeProto.AttributeType values.
ATTR_TYPE_INT, ATTR_TYPE_TENSOR, ATTR_TYPE_INTS = 2, 4, 7

TENSOR_DIMS, TENSOR_DATA_TYPE, TENSOR_FLOAT_DATA, TENSOR_INT32_DATA = 1, 2, 4, 5
TENSOR_INT64_DATA, TENSOR_NAME, TENSOR_RAW_DATA, TENSOR_DOUBLE_DATA = 7, 8, 9, 10
TENSOR_EXTERNAL_DATA, TENSOR_DATA_LOCATION = 13, 14
SPARSE_VALUES, SPARSE_INDICES = 1, 2
ENTRY_KEY, ENTRY_VALUE = 1, 2
LOCATION_EXTERNAL = 1

VALUE_INFO_NAME, VALUE_INFO_TYPE = 1, 2
TYPE_TENSOR = 1
TENSOR_TYPE_ELEM, TENSOR_TYPE_SHAPE = 1, 2
SHAPE_DIM = 1
DIM_VALUE, DIM_PARAM = 1, 2

#: TensorProto.DataType values and their numpy types (little-endian on disk).
FLOAT, UINT8, INT8, INT32, INT64, BOOL, FLOAT16, DOUBLE = 1, 2, 3, 6, 7, 9, 10, 11
DTYPES = {
    FLOAT: np.dtype("<f4"), UINT8: np.dtype("u1"), INT8: np.dtype("i1"), INT32: np.dtype("<i4"),
    INT64: np.dtype("<i8"), BOOL: np.dtype("?"), FLOAT16: np.dtype("<f2"), DOUBLE: np.dtype("<f8"),
}
DATA_TYPES = {dt.newbyteorder("="): code for code, dt in DTYPES.items()}

WIRE_VARINT, WIRE_I64, WIRE_LEN, WIRE_I32 = 0, 1, 2, 5

Span = tuple[int, int]


# -- reading ---------------------------------------------------------------------


def read_varint(buf: Any, pos: int, end: int) -> tuple[int, int]:
    """(value, position after it) of the varint at ``pos``."""
    result = shift = 0
    while True:
        if pos >= end:
            raise ValueError("truncated varint")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise ValueError("varint too long")


def walk(buf: Any, start: int, end: int) -> Iterator[tuple[int, int, Any, int, int]]:
    """(field number, wire type, value, field start, field end) of one message in ``buf[start:end]``.

    Varints come as ints, fixed-width values as None, length-delimited values
    as their (start, end) span in ``buf``; the field's own span includes its key.
    """
    pos = start
    while pos < end:
        field_start = pos
        key, pos = read_varint(buf, pos, end)
        number, wire = key >> 3, key & 7
        if wire == WIRE_VARINT:
            value, pos = read_varint(buf, pos, end)
        elif wire == WIRE_I64:
            value, pos = None, pos + 8
        elif wire == WIRE_I32:
            value, pos = None, pos + 4
        elif wire == WIRE_LEN:
            length, pos = read_varint(buf, pos, end)
            value = (pos, pos + length)
            pos += length
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")
        if pos > end:
            raise ValueError("truncated message")
        yield number, wire, value, field_start, pos


def fields(buf: Any, start: int, end: int) -> Iterator[tuple[int, int, Any]]:
    """(field number, wire type, value) of one message in ``buf[start:end]`` (see :func:`walk`)."""
    for number, wire, value, _, _ in walk(buf, start, end):
        yield number, wire, value


def text(buf: Any, span: Span) -> str:
    return bytes(buf[span[0]:span[1]]).decode("utf-8", "replace")


def packed_varints(buf: Any, span: Span) -> list[int]:
    out, pos = [], span[0]
    while pos < span[1]:
        value, pos = read_varint(buf, pos, span[1])
        out.append(value)
    return out


def signed(value: int) -> int:
    """A varint read as int64 (protobuf writes negative int64 as 10-byte two's complement)."""
    return value - (1 << 64) if value >= 1 << 63 else value


def repeated_ints(buf: Any, number: int, wire: int, value: Any) -> list[int]:
    """The values one occurrence of a repeated int64/int32 field adds (packed or not)."""
    if wire == WIRE_VARINT:
        return [signed(value)]
    if wire == WIRE_LEN:
        return [signed(v) for v in packed_varints(buf, value)]
    raise ValueError(f"field {number} is not an integer field")


@dataclass
class Tensor:
    """A TensorProto read in place: its name, type and shape, and where its data lies."""

    name: str
    dims: tuple[int, ...]
    data_type: int
    span: Span
    raw: Span | None = None
    typed: list[tuple[int, int, Any]] | None = None
    external: dict[str, str] | None = None

    @property
    def size(self) -> int:
        return int(np.prod(self.dims)) if self.dims else 1


def read_tensor(buf: Any, span: Span) -> Tensor:
    name, dims, dtype, raw, typed, external, location = "", [], 0, None, [], {}, 0
    for number, wire, value in fields(buf, *span):
        if number == TENSOR_DIMS:
            dims += repeated_ints(buf, number, wire, value)
        elif number == TENSOR_DATA_TYPE and wire == WIRE_VARINT:
            dtype = value
        elif number == TENSOR_NAME and wire == WIRE_LEN:
            name = text(buf, value)
        elif number == TENSOR_RAW_DATA and wire == WIRE_LEN:
            raw = value
        elif number in (TENSOR_FLOAT_DATA, TENSOR_INT32_DATA, TENSOR_INT64_DATA, TENSOR_DOUBLE_DATA):
            typed.append((number, wire, value))
        elif number == TENSOR_EXTERNAL_DATA and wire == WIRE_LEN:
            key = val = None
            for n, w, v in fields(buf, *value):
                if w == WIRE_LEN and n == ENTRY_KEY:
                    key = text(buf, v)
                elif w == WIRE_LEN and n == ENTRY_VALUE:
                    val = text(buf, v)
            if key is not None:
                external[key] = val or ""
        elif number == TENSOR_DATA_LOCATION and wire == WIRE_VARINT:
            location = value
    if any(d < 0 for d in dims):
        raise ValueError(f"tensor {name!r} has a negative dimension")
    return Tensor(name, tuple(dims), dtype, span, raw, typed, external if (external or location == LOCATION_EXTERNAL) else None)


def tensor_array(buf: Any, tensor: Tensor, read_external=None) -> np.ndarray:
    """The values of a tensor as a numpy array of its shape.

    ``read_external(location, offset, length) -> bytes`` reads external data;
    without it an external tensor raises ValueError.
    """
    dtype = DTYPES.get(tensor.data_type)
    if dtype is None:
        raise ValueError(f"tensor {tensor.name!r} has data type {tensor.data_type}, which is not read here")
    n = tensor.size
    if tensor.external is not None:
        if read_external is None:
            raise ValueError(f"tensor {tensor.name!r} is stored outside the model file")
        ext = tensor.external
        data = read_external(ext.get("location", ""), int(ext.get("offset", 0) or 0),
                             int(ext["length"]) if ext.get("length") else n * dtype.itemsize)
        flat = np.frombuffer(data, dtype=dtype, count=n)
    elif tensor.raw is not None:
        flat = np.frombuffer(bytes(buf[tensor.raw[0]:tensor.raw[1]]), dtype=dtype, count=n)
    else:
        flat = _typed_values(buf, tensor, dtype)
    if flat.size != n:
        raise ValueError(f"tensor {tensor.name!r} holds {flat.size} values, its shape says {n}")
    return flat.astype(dtype.newbyteorder("="), copy=False).reshape(tensor.dims)


def _typed_values(buf: Any, tensor: Tensor, dtype: np.dtype) -> np.ndarray:
    values: list[Any] = []
    for number, wire, value in tensor.typed or ():
        if number == TENSOR_FLOAT_DATA:
            if wire == WIRE_LEN:
                values += struct.unpack(f"<{(value[1] - value[0]) // 4}f", bytes(buf[value[0]:value[1]]))
            else:
                raise ValueError("unpacked float_data is not read here")
        elif number == TENSOR_DOUBLE_DATA:
            if wire == WIRE_LEN:
                values += struct.unpack(f"<{(value[1] - value[0]) // 8}d", bytes(buf[value[0]:value[1]]))
            else:
                raise ValueError("unpacked double_data is not read here")
        else:  # int32_data (also holds bool, int8, uint8 and float16 bits) and int64_data
            values += repeated_ints(buf, number, wire, value)
    if tensor.data_type == FLOAT16:
        return np.array(values, dtype=np.uint16).view(np.float16)
    return np.array(values, dtype=dtype.newbyteorder("="))


def value_info_dims(buf: Any, span: Span) -> tuple[str, int | None, list[int | str | None]]:
    """(name, element type, dims) of a ValueInfoProto; a dim is an int, a name, or None."""
    name, elem, dims = "", None, []
    for number, wire, value in fields(buf, *span):
        if number == VALUE_INFO_NAME and wire == WIRE_LEN:
            name = text(buf, value)
        elif number == VALUE_INFO_TYPE and wire == WIRE_LEN:
            for n, w, v in fields(buf, *value):
                if n != TYPE_TENSOR or w != WIRE_LEN:
                    continue
                for n2, w2, v2 in fields(buf, *v):
                    if n2 == TENSOR_TYPE_ELEM and w2 == WIRE_VARINT:
                        elem = v2
                    elif n2 == TENSOR_TYPE_SHAPE and w2 == WIRE_LEN:
                        for n3, w3, v3 in fields(buf, *v2):
                            if n3 != SHAPE_DIM or w3 != WIRE_LEN:
                                continue
                            dim: int | str | None = None
                            for n4, w4, v4 in fields(buf, *v3):
                                if n4 == DIM_VALUE and w4 == WIRE_VARINT:
                                    dim = signed(v4)
                                elif n4 == DIM_PARAM and w4 == WIRE_LEN:
                                    dim = text(buf, v4)
                            dims.append(dim)
    return name, elem, dims


# -- writing ---------------------------------------------------------------------


def varint(n: int) -> bytes:
    if n < 0:
        n += 1 << 64
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def key(number: int, wire: int) -> bytes:
    return varint(number << 3 | wire)


def int_field(number: int, value: int) -> bytes:
    return key(number, WIRE_VARINT) + varint(value)


def len_field(number: int, payload: bytes | str) -> bytes:
    if isinstance(payload, str):
        payload = payload.encode("utf-8")
    return key(number, WIRE_LEN) + varint(len(payload)) + payload


def len_prefix(number: int, length: int) -> bytes:
    """The key and length of a length-delimited field whose payload is written separately."""
    return key(number, WIRE_LEN) + varint(length)


def tensor_proto(name: str, array: np.ndarray) -> bytes:
    """A TensorProto with the array's values as raw little-endian data."""
    array = np.asarray(array)
    code = DATA_TYPES.get(array.dtype.newbyteorder("="))
    if code is None:
        raise ValueError(f"no ONNX data type for {array.dtype}")
    raw = np.ascontiguousarray(array, dtype=DTYPES[code]).tobytes()
    return (
        b"".join(int_field(TENSOR_DIMS, d) for d in array.shape)
        + int_field(TENSOR_DATA_TYPE, code)
        + len_field(TENSOR_NAME, name)
        + len_field(TENSOR_RAW_DATA, raw)
    )


def attribute(name: str, value: int | Sequence[int] | np.ndarray) -> bytes:
    """An AttributeProto holding an int, a list of ints, or a tensor (numpy array)."""
    out = len_field(ATTR_NAME, name)
    if isinstance(value, np.ndarray):
        return out + len_field(ATTR_T, tensor_proto("", value)) + int_field(ATTR_TYPE, ATTR_TYPE_TENSOR)
    if isinstance(value, int):
        return out + int_field(ATTR_I, value) + int_field(ATTR_TYPE, ATTR_TYPE_INT)
    return out + b"".join(int_field(ATTR_INTS, v) for v in value) + int_field(ATTR_TYPE, ATTR_TYPE_INTS)


def node_proto(op: str, inputs: Sequence[str], outputs: Sequence[str], name: str, **attrs: Any) -> bytes:
    """A NodeProto of the default (ai.onnx) domain."""
    out = b"".join(len_field(NODE_INPUT, i) for i in inputs) + b"".join(len_field(NODE_OUTPUT, o) for o in outputs)
    out += len_field(NODE_NAME, name) + len_field(NODE_OP_TYPE, op)
    return out + b"".join(len_field(NODE_ATTRIBUTE, attribute(k, v)) for k, v in attrs.items())


def string_entry(k: str, v: str) -> bytes:
    """A StringStringEntryProto (metadata_props)."""
    return len_field(ENTRY_KEY, k) + len_field(ENTRY_VALUE, v)


def dim_proto(dim: int | str) -> bytes:
    return int_field(DIM_VALUE, dim) if isinstance(dim, int) else len_field(DIM_PARAM, dim)


def value_info_proto(name: str, elem_type: int, dims: Sequence[int | str]) -> bytes:
    shape = b"".join(len_field(SHAPE_DIM, dim_proto(d)) for d in dims)
    tensor_type = int_field(TENSOR_TYPE_ELEM, elem_type) + len_field(TENSOR_TYPE_SHAPE, shape)
    return len_field(VALUE_INFO_NAME, name) + len_field(VALUE_INFO_TYPE, len_field(TYPE_TENSOR, tensor_type))
