// Package tjson reads and writes JSON the way Ganeti 3.0's Haskell daemons
// do (the Text.JSON library as used by src/Ganeti/Confd/ and
// src/Ganeti/Config.hs).
//
// A general JSON library cannot be used for this, because the quirks that
// decide whether the real server answers a datagram or loads a config are
// part of the contract that goconfd must keep:
//
//   - bytes are read as Latin-1 characters (Data.ByteString.Char8.unpack),
//     so raw non-ASCII bytes become U+0080..U+00FF, not UTF-8 sequences;
//   - leading whitespace before a text is an error, trailing whitespace is
//     not;
//   - duplicate object members are kept, and a lookup finds the first one;
//   - numbers are exact rationals; integers are taken by rounding half to
//     even;
//   - \u escapes are taken one by one (a surrogate pair stays two
//     characters).
//
// Values are kept as a small tree with object members in document order.
// Number literals are kept as text so that nothing is lost before a schema
// decides whether a number is an integer or a double.
package tjson

// Kind is the JSON type of a Value.
type Kind uint8

// The kinds of JSON values.
const (
	// Null is the JSON literal null.
	Null Kind = iota
	// Bool is true or false.
	Bool
	// Number is a JSON number; Value.Str holds its literal text.
	Number
	// String is a JSON string; Value.Str holds its decoded characters.
	String
	// Array is a JSON array; Value.Arr holds its elements.
	Array
	// Object is a JSON object; Value.Obj holds its members in order.
	Object
	// Raw is a container that Parse checked but did not build
	// (Options.RawDepth); Value.Str holds its text.
	Raw
	// Encoded is a value held in its compact encoding, as AppendValue
	// writes it; Value.Str holds the encoding, which AppendValue copies.
	Encoded
)

// String returns the kind's name as used in error messages.
func (k Kind) String() string {
	switch k {
	case Null:
		return "null"
	case Bool:
		return "bool"
	case Number:
		return "number"
	case String:
		return "string"
	case Array:
		return "array"
	case Object:
		return "object"
	case Raw:
		return "raw"
	case Encoded:
		return "encoded"
	}
	return "invalid"
}

// Value is one parsed JSON value.
//
// A string's characters are stored UTF-8 encoded in Str (a character that
// came from the raw byte 0xE9 is stored as "é", two bytes). A lone
// surrogate from a \u escape is stored as the three-byte generalized UTF-8
// form, as Haskell's encoders write it; see AppendChar.
type Value struct {
	Kind Kind
	// Bool is the value of a Bool.
	Bool bool
	// Aux is free for the use of whoever makes an Encoded value (it fits
	// in the padding after Kind and Bool).
	Aux uint32
	// Str is a String's decoded text, a Number's literal text, a Raw
	// container's text or an Encoded value's encoding.
	Str string
	// Arr holds an Array's elements.
	Arr []Value
	// Obj holds an Object's members in document order, duplicates kept.
	Obj []Member
}

// Member is one member of a JSON object.
type Member struct {
	Key string
	Val Value
}

// Get returns the first member named key, as Text.JSON's valFromObj does,
// and whether there was one.
func (v *Value) Get(key string) (*Value, bool) {
	for i := range v.Obj {
		if v.Obj[i].Key == key {
			return &v.Obj[i].Val, true
		}
	}
	return nil, false
}
