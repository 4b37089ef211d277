package tokenizer

import (
	"fmt"
	"sort"
	"strings"
)

// Pre-tokenization splits text into words before BPE merges. llama.cpp
// (unicode_regex_split) applies a list of regexes one after the other: each
// regex cuts every current piece into its matches and the gaps between them.
// The gpt-2, llama3 and qwen2 regexes have hand-written splitters there; the
// others run through std::regex, on a "collapsed" text where every non-ASCII
// codepoint is replaced by one byte standing for its category (when the
// regex uses \p{..}), or on the codepoints with non-ASCII whitespace replaced
// by \v (when it does not). This file reproduces both paths without a regex
// engine: each regex used by a supported pre-tokenizer is one of a few shapes
// (\s?C+, C+, C, C{3}, \s+$) over a character class, matched leftmost-first
// exactly as std::regex's ECMAScript engine does for these shapes.

// splitter cuts one piece [lo, hi) of the codepoints into words, appending
// word end offsets to out (each word is [previous end, end)).
type splitter interface {
	split(s *splitState, lo, hi int, out []int) []int
}

// splitState holds the codepoints of the text and their views.
type splitState struct {
	cpts  []rune
	flags []uint16
	coll  []rune // collapsed text (std::regex with \p{..})
	raw   []rune // codepoints with non-ASCII whitespace as \v (std::wregex)
}

// Collapsed category stand-ins, as in llama.cpp's k_ucat_cpt.
const (
	collOther  = 0xD0
	collNumber = 0xD1
	collLetter = 0xD2
	collPunct  = 0xD3
	collMark   = 0xD4
	collSymbol = 0xD5
)

func (s *splitState) reset(cpts []rune) {
	s.cpts = cpts
	s.flags = s.flags[:0]
	s.coll = s.coll[:0]
	s.raw = s.raw[:0]
	for _, c := range cpts {
		f := cptFlags(c)
		s.flags = append(s.flags, f)
		if c < 128 {
			s.coll = append(s.coll, c)
			s.raw = append(s.raw, c)
			continue
		}
		if f&flagSpace != 0 {
			s.coll = append(s.coll, 0x0B)
			s.raw = append(s.raw, 0x0B)
			continue
		}
		s.raw = append(s.raw, c)
		switch f & flagCategory {
		case flagNumber:
			s.coll = append(s.coll, collNumber)
		case flagLetter:
			s.coll = append(s.coll, collLetter)
		case flagPunct:
			s.coll = append(s.coll, collPunct)
		case flagMark:
			s.coll = append(s.coll, collMark)
		case flagSymbol:
			s.coll = append(s.coll, collSymbol)
		default:
			s.coll = append(s.coll, collOther)
		}
	}
}

// cSpace is \s of std::regex in the C locale: ASCII whitespace only (the
// collapsed and raw views already turned other whitespace into \v).
func cSpace(c rune) bool {
	return c == ' ' || (c >= '\t' && c <= '\r')
}

// class is a character class over the collapsed or raw view.
type class struct {
	ranges    [][2]rune
	collapsed bool // test the collapsed view, else the raw one
}

func (c *class) has(r rune) bool {
	for _, rg := range c.ranges {
		if r >= rg[0] && r <= rg[1] {
			return true
		}
	}
	return false
}

// Character class parts as llama.cpp expands \p{..} in a collapsed regex
// (k_ucat_map): the stand-in byte plus the ASCII members.
var (
	pN = [][2]rune{{collNumber, collNumber}, {'0', '9'}}
	pL = [][2]rune{{collLetter, collLetter}, {'A', 'Z'}, {'a', 'z'}}
	pP = [][2]rune{{collPunct, collPunct}, {'!', '#'}, {'%', '*'}, {',', '/'}, {':', ';'}, {'?', '@'}, {'[', ']'}, {'_', '_'}, {'{', '{'}, {'}', '}'}}
)

func join(parts ...[][2]rune) [][2]rune {
	var out [][2]rune
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func chars(s string) [][2]rune {
	var out [][2]rune
	for _, c := range s {
		out = append(out, [2]rune{c, c})
	}
	return out
}

// ranges parses a bracket expression body of literal characters and a-b ranges.
func ranges(s string) [][2]rune {
	rs := []rune(s)
	var out [][2]rune
	for i := 0; i < len(rs); i++ {
		if i+2 < len(rs) && rs[i+1] == '-' {
			out = append(out, [2]rune{rs[i], rs[i+2]})
			i += 2
			continue
		}
		out = append(out, [2]rune{rs[i], rs[i]})
	}
	return out
}

// Shapes of the std::regex patterns.
const (
	shapeRun      = iota // C+
	shapeSpaceRun        // \s?C+
	shapeOne             // C
	shapeThree           // CCC
	shapeTrailWS         // \s+$
)

type regexSplit struct {
	shape int
	cls   class
}

func (r *regexSplit) view(s *splitState) []rune {
	if r.cls.collapsed {
		return s.coll
	}
	return s.raw
}

// split emits gaps and matches like llama.cpp's unicode_regex_split_stl
// (a std::regex_iterator over the piece: the piece's end is the text's end).
func (r *regexSplit) split(s *splitState, lo, hi int, out []int) []int {
	v := r.view(s)
	prev := lo
	emit := func(a, b int) {
		if a > prev {
			out = append(out, a)
		}
		out = append(out, b)
		prev = b
	}
	if r.shape == shapeTrailWS {
		a := hi
		for a > lo && cSpace(v[a-1]) {
			a--
		}
		if a < hi {
			emit(a, hi)
		}
		if prev < hi {
			out = append(out, hi)
		}
		return out
	}
	for p := lo; p < hi; {
		n := r.matchAt(v, p, hi)
		if n == 0 {
			p++
			continue
		}
		emit(p, p+n)
		p += n
	}
	if prev < hi {
		out = append(out, hi)
	}
	return out
}

// matchAt returns the length of the leftmost-first match starting at p, or 0.
func (r *regexSplit) matchAt(v []rune, p, hi int) int {
	c := &r.cls
	switch r.shape {
	case shapeOne:
		if c.has(v[p]) {
			return 1
		}
	case shapeThree:
		if p+3 <= hi && c.has(v[p]) && c.has(v[p+1]) && c.has(v[p+2]) {
			return 3
		}
	case shapeRun, shapeSpaceRun:
		q := p
		if r.shape == shapeSpaceRun && cSpace(v[p]) && p+1 < hi && c.has(v[p+1]) {
			q = p + 1 // \s? takes the space only when C+ can follow
		}
		e := q
		for e < hi && c.has(v[e]) {
			e++
		}
		if e > q {
			return e - p
		}
	}
	return 0
}

// gpt2Split is llama.cpp's unicode_regex_split_custom_gpt2 for
// 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
type gpt2Split struct{}

func (gpt2Split) split(s *splitState, lo, hi int, out []int) []int {
	cp := func(i int) rune {
		if i >= lo && i < hi {
			return s.cpts[i]
		}
		return -1
	}
	fl := func(i int) uint16 {
		if i >= lo && i < hi {
			return s.flags[i]
		}
		return 0
	}
	prev := lo
	add := func(end int) int {
		n := end - prev
		if n > 0 {
			out = append(out, end)
		}
		prev = end
		return n
	}
	for pos := lo; pos < hi; {
		c := cp(pos)
		f := fl(pos)
		if c == '\'' && pos+1 < hi {
			n := cp(pos + 1)
			if n == 's' || n == 't' || n == 'm' || n == 'd' {
				pos += add(pos + 2)
				continue
			}
			if pos+2 < hi {
				nn := cp(pos + 2)
				if (n == 'r' && nn == 'e') || (n == 'v' && nn == 'e') || (n == 'l' && nn == 'l') {
					pos += add(pos + 3)
					continue
				}
			}
		}
		f2 := f
		if c == ' ' {
			f2 = fl(pos + 1)
		}
		if f2&flagLetter != 0 {
			if c == ' ' {
				pos++
			}
			for fl(pos)&flagLetter != 0 {
				pos++
			}
			add(pos)
			continue
		}
		if f2&flagNumber != 0 {
			if c == ' ' {
				pos++
			}
			for fl(pos)&flagNumber != 0 {
				pos++
			}
			add(pos)
			continue
		}
		if f2&(flagSpace|flagLetter|flagNumber) == 0 && f2 != 0 {
			if c == ' ' {
				pos++
			}
			for {
				g := fl(pos)
				if g&(flagSpace|flagLetter|flagNumber) != 0 || g == 0 {
					break
				}
				pos++
			}
			add(pos)
			continue
		}
		nws := 0
		for fl(pos+nws)&flagSpace != 0 {
			nws++
		}
		if nws > 1 && cp(pos+nws) != -1 {
			pos += nws - 1
			add(pos)
			continue
		}
		if nws > 0 {
			pos += nws
			add(pos)
			continue
		}
		pos++
		add(pos)
	}
	return out
}

// llama3Split is llama.cpp's unicode_regex_split_custom_llama3 (maxDigits 3)
// and unicode_regex_split_custom_qwen2 (maxDigits 1) for
// (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
type llama3Split struct{ maxDigits int }

func (l llama3Split) split(s *splitState, lo, hi int, out []int) []int {
	cp := func(i int) rune {
		if i >= lo && i < hi {
			return s.cpts[i]
		}
		return -1
	}
	fl := func(i int) uint16 {
		if i >= lo && i < hi {
			return s.flags[i]
		}
		return 0
	}
	prev := lo
	add := func(end int) int {
		n := end - prev
		if n > 0 {
			out = append(out, end)
		}
		prev = end
		return n
	}
	for pos := lo; pos < hi; {
		c := cp(pos)
		f := fl(pos)
		if c == '\'' && pos+1 < hi {
			n := toLower(cp(pos + 1))
			if n == 's' || n == 't' || n == 'm' || n == 'd' {
				pos += add(pos + 2)
				continue
			}
			if pos+2 < hi {
				nn := toLower(cp(pos + 2))
				if (n == 'r' && nn == 'e') || (n == 'v' && nn == 'e') || (n == 'l' && nn == 'l') {
					pos += add(pos + 3)
					continue
				}
			}
		}
		if !(c == '\r' || c == '\n' || f&flagNumber != 0) {
			if f&flagLetter != 0 || fl(pos+1)&flagLetter != 0 {
				pos++
				for fl(pos)&flagLetter != 0 {
					pos++
				}
				add(pos)
				continue
			}
		}
		if f&flagNumber != 0 {
			ini := pos
			for fl(pos)&flagNumber != 0 {
				pos++
				if pos-ini >= l.maxDigits {
					add(pos)
					ini = pos
				}
			}
			add(pos)
			continue
		}
		f2 := f
		if c == ' ' {
			f2 = fl(pos + 1)
		}
		if f2&(flagSpace|flagLetter|flagNumber) == 0 && f != 0 {
			if c == ' ' {
				pos++
			}
			for {
				g := fl(pos)
				if g&(flagSpace|flagLetter|flagNumber) != 0 || g == 0 {
					break
				}
				pos++
			}
			for c2 := cp(pos); c2 == '\r' || c2 == '\n'; c2 = cp(pos) {
				pos++
			}
			add(pos)
			continue
		}
		nws := 0
		lastRN := 0
		for fl(pos+nws)&flagSpace != 0 {
			if c2 := cp(pos + nws); c2 == '\r' || c2 == '\n' {
				lastRN = pos + nws + 1
			}
			nws++
		}
		if lastRN > 0 {
			pos = lastRN
			add(pos)
			continue
		}
		if nws > 1 && cp(pos+nws) != -1 {
			pos += nws - 1
			add(pos)
			continue
		}
		if nws > 0 {
			pos += nws
			add(pos)
			continue
		}
		pos++
		add(pos)
	}
	return out
}

// The deepseek-llm letter, punctuation and CJK classes of llama.cpp's
// regexes, escaped so that no editor can NFC-normalize them (several
// members, such as U+1F7D and U+2126, are canonical singletons).
const (
	deepseekLetters = "A-Za-z\u00B5\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u01BA\u01BC-\u01BF\u01C4-\u0293\u0295-\u02AF\u0370-\u0373\u0376\u0377\u037B-\u037D\u037F\u0386\u0388-\u038A\u038C\u038E-\u03A1\u03A3-\u03F5\u03F7-\u0481\u048A-\u052F\u0531-\u0556\u10A0-\u10C5\u13A0-\u13F5\u13F8-\u13FD\u1C90-\u1CBA\u1CBD-\u1CBF\u1D00-\u1D2B\u1D6B-\u1D77\u1D79-\u1D9A\u1E00-\u1F15\u1F18-\u1F1D\u1F20-\u1F45\u1F48-\u1F4D\u1F50-\u1F57\u1F59\u1F5B\u1F5D\u1F5F-\u1F7D\u1F80-\u1FB4\u1FB6-\u1FBC\u1FBE\u1FC2-\u1FC4\u1FC6-\u1FCC\u1FD0-\u1FD3\u1FD6-\u1FDB\u1FE0-\u1FEC\u1FF2-\u1FF4\u1FF6-\u1FFC\u2102\u2107\u210A-\u2113\u2115\u2119-\u211D\u2124\u2126\u2128\u212A-\u212D\u212F-\u2134\u2139\u213C-\u213F\u2145-\u2149\u214E\u2183\u2184\u2C00-\u2C7B\u2C7E-\u2CE4\u2CEB-\u2CEE\u2CF2\u2CF3\uA640-\uA66D\uA680-\uA69B\uA722-\uA76F\uA771-\uA787\uA78B-\uA78E\uAB70-\uABBF\uFB00-\uFB06\uFB13-\uFB17\uFF21-\uFF3A\uFF41-\uFF5A\U00010400-\U0001044F\U000104B0-\U000104D3\U000104D8-\U000104FB\U00010C80-\U00010CB2\U00010CC0-\U00010CF2\U000118A0-\U000118DF\U0001E900-\U0001E943"
	deepseekPunct   = "!-/:-~\uFF01-\uFF0F\uFF1A-\uFF5E\u2018-\u201F\u3000-\u3002"
	deepseekCJK     = "\u4E00-\u9FA5\u0800-\u4E00\uAC00-\uD7FF"
)

// preSpec is what a tokenizer.ggml.pre value selects in llama.cpp: the regex
// chain and the flags its branch of llama_vocab::impl::load sets.
type preSpec struct {
	chain        func() []splitter
	cleanSpaces  bool // detokenize cleans " ." etc. (clean_up_tokenization_spaces)
	ignoreMerges bool // a word that is a whole token skips the merges
	forceBOS     bool // add_bos defaults to true (the GGUF key can still override)
}

var (
	chainDefault = func() []splitter {
		return []splitter{
			&regexSplit{shapeRun, class{join(pP, chars("$+<=>^~|")), true}},
			gpt2Split{},
			&regexSplit{shapeRun, class{pN, true}},
			&regexSplit{shapeThree, class{[][2]rune{{'0', '9'}}, false}},
		}
	}
	chainGPT2   = func() []splitter { return []splitter{gpt2Split{}} }
	chainLlama3 = func() []splitter { return []splitter{llama3Split{3}} }
	chainQwen2  = func() []splitter { return []splitter{llama3Split{1}} }
	chainStar   = func() []splitter { return []splitter{&regexSplit{shapeOne, class{pN, true}}, gpt2Split{}} }
	chainFalcon = func() []splitter {
		return []splitter{
			&regexSplit{shapeRun, class{join(pP, chars("$+<=>^~|`")), true}},
			gpt2Split{},
			&regexSplit{shapeThree, class{[][2]rune{{'0', '9'}}, false}},
		}
	}
	chainDeepseekLLM = func() []splitter {
		return []splitter{
			&regexSplit{shapeOne, class{chars("\r\n"), false}},
			&regexSplit{shapeSpaceRun, class{ranges(deepseekLetters), false}},
			&regexSplit{shapeSpaceRun, class{ranges(deepseekPunct), false}},
			&regexSplit{shapeTrailWS, class{nil, false}},
			&regexSplit{shapeRun, class{ranges(deepseekCJK), false}},
			&regexSplit{shapeRun, class{pN, true}},
		}
	}
	chainDeepseekCoder = func() []splitter {
		return []splitter{
			&regexSplit{shapeOne, class{chars("\r\n"), false}},
			&regexSplit{shapeSpaceRun, class{pL, true}},
			&regexSplit{shapeSpaceRun, class{pP, true}},
			&regexSplit{shapeRun, class{ranges(deepseekCJK), false}},
			&regexSplit{shapeOne, class{pN, true}},
		}
	}
)

// preSpecs maps tokenizer.ggml.pre values to llama.cpp's behaviour. Only
// pre-tokenizers whose every regex is reproduced here are listed.
var preSpecs = map[string]preSpec{
	"default":          {chain: chainDefault, cleanSpaces: true},
	"llama3":           {chain: chainLlama3, cleanSpaces: true, ignoreMerges: true, forceBOS: true},
	"llama-v3":         {chain: chainLlama3, cleanSpaces: true, ignoreMerges: true, forceBOS: true},
	"llama-bpe":        {chain: chainLlama3, cleanSpaces: true, ignoreMerges: true, forceBOS: true},
	"falcon3":          {chain: chainLlama3, cleanSpaces: true, ignoreMerges: true, forceBOS: true},
	"pixtral":          {chain: chainLlama3, cleanSpaces: true, ignoreMerges: true, forceBOS: true},
	"dbrx":             {chain: chainLlama3, cleanSpaces: true},
	"smaug-bpe":        {chain: chainLlama3, cleanSpaces: true},
	"qwen2":            {chain: chainQwen2},
	"deepseek-r1-qwen": {chain: chainQwen2},
	"stablelm2":        {chain: chainQwen2, cleanSpaces: true},
	"megrez":           {chain: chainQwen2, cleanSpaces: true},
	"hunyuan":          {chain: chainQwen2},
	"deepseek-llm":     {chain: chainDeepseekLLM},
	"deepseek-coder":   {chain: chainDeepseekCoder},
	"falcon":           {chain: chainFalcon, cleanSpaces: true},
	"mpt":              {chain: chainGPT2, cleanSpaces: true},
	"olmo":             {chain: chainGPT2, cleanSpaces: true},
	"gpt-2":            {chain: chainGPT2, cleanSpaces: true},
	"phi-2":            {chain: chainGPT2, cleanSpaces: true},
	"jais":             {chain: chainGPT2, cleanSpaces: true},
	"starcoder":        {chain: chainStar, cleanSpaces: true},
	"refact":           {chain: chainStar, cleanSpaces: true},
	"codeshell":        {chain: chainStar, cleanSpaces: true},
	"exaone":           {chain: chainStar, cleanSpaces: true},
	"minerva-7b":       {chain: chainStar, cleanSpaces: true},
	"command-r":        {chain: chainStar},
	"smollm":           {chain: chainStar},
}

// lookupPre resolves a tokenizer.ggml.pre value; a missing key means
// "default", as in llama.cpp (which warns that quality may suffer).
func lookupPre(pre string) (preSpec, error) {
	if pre == "" {
		pre = "default"
	}
	sp, ok := preSpecs[pre]
	if !ok {
		return preSpec{}, fmt.Errorf("tokenizer: unsupported pre-tokenizer %q (tokenizer.ggml.pre); supported: %s", pre, supportedPreList())
	}
	return sp, nil
}

func supportedPreList() string {
	names := make([]string, 0, len(preSpecs))
	for k := range preSpecs {
		names = append(names, k)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// splitWords runs the chain over cpts and returns word end offsets.
func splitWords(s *splitState, chain []splitter, bufA, bufB []int) []int {
	cur := append(bufA[:0], len(s.cpts))
	next := bufB[:0]
	for _, sp := range chain {
		next = next[:0]
		lo := 0
		for _, end := range cur {
			next = sp.split(s, lo, end, next)
			lo = end
		}
		cur, next = next, cur
	}
	return cur
}
