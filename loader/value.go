package loader

import (
	"encoding/binary"
	"fmt"
	"math"
)

// ValueType is a GGUF metadata value type.
type ValueType uint32

// GGUF metadata value types.
const (
	TypeUint8   ValueType = 0
	TypeInt8    ValueType = 1
	TypeUint16  ValueType = 2
	TypeInt16   ValueType = 3
	TypeUint32  ValueType = 4
	TypeInt32   ValueType = 5
	TypeFloat32 ValueType = 6
	TypeBool    ValueType = 7
	TypeString  ValueType = 8
	TypeArray   ValueType = 9
	TypeUint64  ValueType = 10
	TypeInt64   ValueType = 11
	TypeFloat64 ValueType = 12
)

var valueTypeNames = [...]string{"uint8", "int8", "uint16", "int16", "uint32", "int32", "float32", "bool", "string", "array", "uint64", "int64", "float64"}

func (t ValueType) String() string {
	if int(t) < len(valueTypeNames) {
		return valueTypeNames[t]
	}
	return fmt.Sprintf("valuetype(%d)", uint32(t))
}

// size returns the encoded size of a fixed-size type, or 0 for string/array.
func (t ValueType) size() int {
	switch t {
	case TypeUint8, TypeInt8, TypeBool:
		return 1
	case TypeUint16, TypeInt16:
		return 2
	case TypeUint32, TypeInt32, TypeFloat32:
		return 4
	case TypeUint64, TypeInt64, TypeFloat64:
		return 8
	}
	return 0
}

// Value is one metadata value. Numbers (scalars and arrays) keep their
// little-endian file bytes, so writing a file back reproduces it exactly.
type Value struct {
	Type     ValueType
	ElemType ValueType // element type when Type is TypeArray

	n    int    // array length
	raw  []byte // bytes of a number, or of a numeric array
	str  string
	strs []string
}

// Len returns the length of an array value (0 for scalars).
func (v Value) Len() int { return v.n }

func (v Value) String() string {
	switch v.Type {
	case TypeString:
		return fmt.Sprintf("%q", v.str)
	case TypeArray:
		return fmt.Sprintf("[%d × %s]", v.n, v.ElemType)
	case TypeFloat32, TypeFloat64:
		f, _ := v.Float()
		return fmt.Sprint(f)
	case TypeBool:
		b, _ := v.Bool()
		return fmt.Sprint(b)
	case TypeInt8, TypeInt16, TypeInt32, TypeInt64:
		i, _ := v.Int()
		return fmt.Sprint(i)
	default:
		u, _ := v.Uint()
		return fmt.Sprint(u)
	}
}

// number decodes one fixed-size number of type t from b as int64/uint64/float64.
func number(t ValueType, b []byte) (i int64, u uint64, f float64, isInt, isSigned bool) {
	switch t {
	case TypeUint8:
		u = uint64(b[0])
	case TypeInt8:
		i, isSigned = int64(int8(b[0])), true
	case TypeUint16:
		u = uint64(binary.LittleEndian.Uint16(b))
	case TypeInt16:
		i, isSigned = int64(int16(binary.LittleEndian.Uint16(b))), true
	case TypeUint32:
		u = uint64(binary.LittleEndian.Uint32(b))
	case TypeInt32:
		i, isSigned = int64(int32(binary.LittleEndian.Uint32(b))), true
	case TypeUint64:
		u = binary.LittleEndian.Uint64(b)
	case TypeInt64:
		i, isSigned = int64(binary.LittleEndian.Uint64(b)), true
	case TypeFloat32:
		return 0, 0, float64(math.Float32frombits(binary.LittleEndian.Uint32(b))), false, false
	case TypeFloat64:
		return 0, 0, math.Float64frombits(binary.LittleEndian.Uint64(b)), false, false
	default:
		return 0, 0, 0, false, false
	}
	return i, u, 0, true, isSigned
}

// Uint returns an integer value that is non-negative.
func (v Value) Uint() (uint64, bool) {
	if v.Type == TypeArray || v.Type.size() == 0 {
		return 0, false
	}
	i, u, _, isInt, signed := number(v.Type, v.raw)
	if !isInt {
		return 0, false
	}
	if signed {
		if i < 0 {
			return 0, false
		}
		return uint64(i), true
	}
	return u, true
}

// Int returns an integer value that fits in int64.
func (v Value) Int() (int64, bool) {
	if v.Type == TypeArray || v.Type.size() == 0 {
		return 0, false
	}
	i, u, _, isInt, signed := number(v.Type, v.raw)
	if !isInt {
		return 0, false
	}
	if signed {
		return i, true
	}
	if u > math.MaxInt64 {
		return 0, false
	}
	return int64(u), true
}

// Float returns a float32 or float64 value.
func (v Value) Float() (float64, bool) {
	if v.Type != TypeFloat32 && v.Type != TypeFloat64 {
		return 0, false
	}
	_, _, f, _, _ := number(v.Type, v.raw)
	return f, true
}

// Bool returns a bool value.
func (v Value) Bool() (bool, bool) {
	if v.Type != TypeBool {
		return false, false
	}
	return v.raw[0] != 0, true
}

// Str returns a string value.
func (v Value) Str() (string, bool) {
	if v.Type != TypeString {
		return "", false
	}
	return v.str, true
}

// Strings returns an array of strings.
func (v Value) Strings() ([]string, bool) {
	if v.Type != TypeArray || v.ElemType != TypeString {
		return nil, false
	}
	return v.strs, true
}

// Float32s returns an array of float32 (or float64, narrowed).
func (v Value) Float32s() ([]float32, bool) {
	if v.Type != TypeArray || (v.ElemType != TypeFloat32 && v.ElemType != TypeFloat64) {
		return nil, false
	}
	sz := v.ElemType.size()
	out := make([]float32, v.n)
	for k := range out {
		_, _, f, _, _ := number(v.ElemType, v.raw[k*sz:])
		out[k] = float32(f)
	}
	return out, true
}

// Int32s returns an array of integers that all fit in int32.
func (v Value) Int32s() ([]int32, bool) {
	if v.Type != TypeArray || v.ElemType.size() == 0 || v.ElemType == TypeFloat32 || v.ElemType == TypeFloat64 || v.ElemType == TypeBool {
		return nil, false
	}
	sz := v.ElemType.size()
	out := make([]int32, v.n)
	for k := range out {
		i, u, _, _, signed := number(v.ElemType, v.raw[k*sz:])
		if !signed {
			if u > math.MaxInt32 {
				return nil, false
			}
			i = int64(u)
		}
		if i < math.MinInt32 || i > math.MaxInt32 {
			return nil, false
		}
		out[k] = int32(i)
	}
	return out, true
}

// Constructors, for writing files.

func scalar(t ValueType, bits uint64) Value {
	b := make([]byte, 8)
	binary.LittleEndian.PutUint64(b, bits)
	return Value{Type: t, raw: b[:t.size()]}
}

// Uint8Value, Uint32Value, ... make metadata values of the named GGUF type.
func Uint8Value(x uint8) Value     { return scalar(TypeUint8, uint64(x)) }
func Int8Value(x int8) Value       { return scalar(TypeInt8, uint64(uint8(x))) }
func Uint16Value(x uint16) Value   { return scalar(TypeUint16, uint64(x)) }
func Int16Value(x int16) Value     { return scalar(TypeInt16, uint64(uint16(x))) }
func Uint32Value(x uint32) Value   { return scalar(TypeUint32, uint64(x)) }
func Int32Value(x int32) Value     { return scalar(TypeInt32, uint64(uint32(x))) }
func Uint64Value(x uint64) Value   { return scalar(TypeUint64, x) }
func Int64Value(x int64) Value     { return scalar(TypeInt64, uint64(x)) }
func Float32Value(x float32) Value { return scalar(TypeFloat32, uint64(math.Float32bits(x))) }
func Float64Value(x float64) Value { return scalar(TypeFloat64, math.Float64bits(x)) }
func StringValue(s string) Value   { return Value{Type: TypeString, str: s} }
func BoolValue(b bool) Value {
	if b {
		return scalar(TypeBool, 1)
	}
	return scalar(TypeBool, 0)
}

// StringsValue makes an array of strings.
func StringsValue(s []string) Value {
	return Value{Type: TypeArray, ElemType: TypeString, n: len(s), strs: s}
}

// Float32sValue makes an array of float32.
func Float32sValue(x []float32) Value {
	b := make([]byte, 4*len(x))
	for k, f := range x {
		binary.LittleEndian.PutUint32(b[4*k:], math.Float32bits(f))
	}
	return Value{Type: TypeArray, ElemType: TypeFloat32, n: len(x), raw: b}
}

// Int32sValue makes an array of int32.
func Int32sValue(x []int32) Value {
	b := make([]byte, 4*len(x))
	for k, v := range x {
		binary.LittleEndian.PutUint32(b[4*k:], uint32(v))
	}
	return Value{Type: TypeArray, ElemType: TypeInt32, n: len(x), raw: b}
}
