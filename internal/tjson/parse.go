package tjson

// Options say how Parse reads a text.
type Options struct {
	// Latin1 reads every byte as one character, as Ganeti reads a
	// datagram. Otherwise the text is UTF-8, as config.data is read.
	Latin1 bool
	// Container requires the text to be an object or an array, as
	// Text.JSON's decodeStrict does (config.data); otherwise any value is
	// accepted, as decode does (datagrams).
	Container bool
}

// Parse reads one JSON text as Text.JSON does: no white space before it,
// white space after it only where Text.JSON's container parsers swallow it
// (after a closing bracket), nothing else after it.
func Parse(data []byte, opt Options) (Value, error) {
	var s Scanner
	s.Reset(data, opt.Latin1)
	if opt.Container {
		if c := s.Peek(); c != '{' && c != '[' {
			return Value{}, &SyntaxError{0, ErrTopLevel}
		}
	}
	p := parser{s: &s}
	v, err := p.value(0)
	if err != nil {
		return Value{}, &SyntaxError{s.Pos(), err}
	}
	if !s.AtEnd() {
		return Value{}, &SyntaxError{s.Pos(), ErrTrailing}
	}
	return v, nil
}

type parser struct {
	s   *Scanner
	buf []byte
	// strs interns member names, which repeat across a config's objects.
	strs map[string]string
}

func (p *parser) str(b []byte) string {
	if len(b) > 32 {
		return string(b)
	}
	if s, ok := p.strs[string(b)]; ok {
		return s
	}
	if p.strs == nil {
		p.strs = make(map[string]string)
	}
	s := string(b)
	p.strs[s] = s
	return s
}

func (p *parser) value(depth int) (Value, error) {
	s := p.s
	k, err := s.PeekKind()
	if err != nil {
		return Value{}, err
	}
	switch k {
	case Null:
		return Value{}, s.ReadNull()
	case Bool:
		b, err := s.ReadBool()
		return Value{Kind: Bool, Bool: b}, err
	case Number:
		lit, err := s.ReadNumber()
		if err != nil {
			return Value{}, err
		}
		return Value{Kind: Number, Str: p.str(lit)}, nil
	case String:
		p.buf, err = s.ReadString(p.buf[:0])
		if err != nil {
			return Value{}, err
		}
		return Value{Kind: String, Str: string(p.buf)}, nil
	}
	if depth >= MaxDepth {
		return Value{}, ErrDepth
	}
	if k == Array {
		empty, err := s.BeginArray()
		if err != nil || empty {
			return Value{Kind: Array}, err
		}
		var arr []Value
		for {
			v, err := p.value(depth + 1)
			if err != nil {
				return Value{}, err
			}
			arr = append(arr, v)
			more, err := s.Next(']')
			if err != nil {
				return Value{}, err
			}
			if !more {
				return Value{Kind: Array, Arr: arr}, nil
			}
		}
	}
	empty, err := s.BeginObject()
	if err != nil || empty {
		return Value{Kind: Object}, err
	}
	var obj []Member
	for {
		p.buf, err = s.ReadKey(p.buf[:0])
		if err != nil {
			return Value{}, err
		}
		key := p.str(p.buf)
		v, err := p.value(depth + 1)
		if err != nil {
			return Value{}, err
		}
		obj = append(obj, Member{Key: key, Val: v})
		more, err := s.Next('}')
		if err != nil {
			return Value{}, err
		}
		if !more {
			return Value{Kind: Object, Obj: obj}, nil
		}
	}
}
