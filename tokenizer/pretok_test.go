package tokenizer

import (
	"math/rand"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

// splitStrings runs a chain over text and returns the words.
func splitStrings(chain []splitter, text string) []string {
	var s splitState
	cpts := decodeCpts(text, nil)
	s.reset(cpts)
	ends := splitWords(&s, chain, nil, nil)
	var words []string
	lo := 0
	for _, e := range ends {
		var b []byte
		for _, c := range cpts[lo:e] {
			b = appendCpt(b, c)
		}
		words = append(words, string(b))
		lo = e
	}
	return words
}

// Hand-derived splits of each pre-tokenizer, following its regex (and, for
// gpt-2/llama3/qwen2, llama.cpp's hand-written splitter).
func TestPreTokenizerSplits(t *testing.T) {
	const text = "Hello world's  123456 ,.!\n\n  x"
	cases := []struct {
		pre  string
		text string
		want []string
	}{
		{"gpt-2", text, []string{"Hello", " world", "'s", " ", " 123456", " ,.!", "\n\n ", " x"}},
		{"gpt-2", "I'M 3.5 ŝŝ  ", []string{"I", "'", "M", " 3", ".", "5", " ŝŝ", "  "}},
		{"llama3", text, []string{"Hello", " world", "'s", " ", " ", "123", "456", " ,.!\n\n", " ", " x"}},
		{"llama3", "I'M 12345\r\n\tx", []string{"I", "'M", " ", "123", "45", "\r\n", "\tx"}},
		{"qwen2", text, []string{"Hello", " world", "'s", " ", " ", "1", "2", "3", "4", "5", "6", " ,.!\n\n", " ", " x"}},
		// default: punctuation runs first, then gpt-2, then digit runs, then digit triples.
		{"default", "a+b=12345!?", []string{"a", "+", "b", "=", "123", "45", "!?"}},
		// falcon adds the backtick to the punctuation class; digits in triples.
		{"falcon", "x`y 1234567", []string{"x", "`", "y", " ", "123", "456", "7"}},
		// starcoder/refact: every digit alone, then gpt-2.
		{"starcoder", "ab 123 c", []string{"ab", " ", "1", "2", "3", " c"}},
		// deepseek-coder: newlines alone, \s?letters, \s?punct, CJK runs, single digits.
		{"deepseek-coder", "int x=10;\n中文 ok", []string{"int", " x", "=", "1", "0", ";", "\n", "中文", " ok"}},
		// deepseek-llm: like coder but with its own letter/punct classes, trailing
		// whitespace and digit runs. Its punctuation class [!-/:-~...] spans
		// 0x3A-0x7E, ASCII letters included, so a word mixing ASCII and other
		// letters is cut by the third regex: llama.cpp does the same.
		{"deepseek-llm", "Héllo, 世界 42  ", []string{"H", "é", "llo", ",", " ", "世界", " ", "42", "  "}},
		{"deepseek-llm", "hello world\n", []string{"hello", " world", "\n"}},
	}
	for _, c := range cases {
		sp, err := lookupPre(c.pre)
		if err != nil {
			t.Fatal(err)
		}
		got := splitStrings(sp.chain(), c.text)
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s %q:\n got  %q\n want %q", c.pre, c.text, got, c.want)
		}
		if strings.Join(got, "") != c.text {
			t.Errorf("%s %q: words do not cover the text", c.pre, c.text)
		}
	}
}

// oracle runs one llama.cpp std::regex pattern through Go's regexp, which
// picks the same leftmost-first match as a backtracking engine for these
// lookaround-free patterns. Like llama.cpp it works on the collapsed text
// (\p{..} patterns) or on the text with non-ASCII whitespace as \v.
type oracle struct {
	re        *regexp.Regexp
	collapsed bool
}

// translate expands \p{N}, \p{L}, \p{P} and \s as llama.cpp's collapse does
// and as std::regex's C-locale \s matches.
func translate(pat string) (string, bool) {
	collapsed := strings.Contains(pat, `\p{`)
	parts := map[string]string{
		`\p{N}`: `\x{D1}0-9`,
		`\p{L}`: `\x{D2}A-Za-z`,
		`\p{P}`: `\x{D3}!-#%-*,-/:-;?-@\[-\]_\{\}`,
		`\s`:    `\t\n\x0B\f\r `,
	}
	var b strings.Builder
	inside := false
	for i := 0; i < len(pat); i++ {
		if pat[i] == '[' && (i == 0 || pat[i-1] != '\\') {
			inside = true
		} else if pat[i] == ']' && pat[i-1] != '\\' {
			inside = false
		}
		matched := false
		for k, v := range parts {
			if strings.HasPrefix(pat[i:], k) {
				if inside {
					b.WriteString(v)
				} else {
					b.WriteString("[" + v + "]")
				}
				i += len(k) - 1
				matched = true
				break
			}
		}
		if !matched {
			b.WriteByte(pat[i])
		}
	}
	return b.String(), collapsed
}

func (o *oracle) split(s *splitState, lo, hi int) []int {
	v := s.raw
	if o.collapsed {
		v = s.coll
	}
	str := string(v[lo:hi])
	var out []int
	prev := lo
	for _, m := range o.re.FindAllStringIndex(str, -1) {
		a := lo + utf8.RuneCountInString(str[:m[0]])
		b := lo + utf8.RuneCountInString(str[:m[1]])
		if a > prev {
			out = append(out, a)
		}
		out = append(out, b)
		prev = b
	}
	if prev < hi {
		out = append(out, hi)
	}
	return out
}

// randomText draws from a pool that hits every class boundary the patterns care about.
func randomText(r *rand.Rand, n int) string {
	pool := []string{"a", "Z", "é", "ß", "Ω", "ж", "中", "文", "가", "ア", "0", "7", "٣", "½", "Ⅻ",
		" ", " ", "  ", "\t", "\n", "\r", "\v", "\u00a0", "\u3000", "\u2028", "\u0085",
		".", ",", "!", "?", "'", "\"", "$", "+", "<", "=", "^", "~", "|", "`", "_", "-", "(", "]", "{",
		"！", "，", "。", "‘", "“", "€", "©", "\u0301", "😀", "\x00", "\u200b", "µ", "ǅ", "ℕ"}
	var b strings.Builder
	for i := 0; i < n; i++ {
		b.WriteString(pool[r.Intn(len(pool))])
	}
	return b.String()
}

// Every std::regex pattern of the supported pre-tokenizers against the oracle.
func TestRegexSplitsAgainstOracle(t *testing.T) {
	pats := []struct {
		sp  *regexSplit
		pat string
	}{
		{&regexSplit{shapeRun, class{join(pP, chars("$+<=>^~|")), true}}, `[\p{P}\$\+<=>\^~\|]+`},
		{&regexSplit{shapeRun, class{join(pP, chars("$+<=>^~|`")), true}}, "[\\p{P}\\$\\+<=>\\^~\\|`]+"},
		{&regexSplit{shapeRun, class{pN, true}}, `\p{N}+`},
		{&regexSplit{shapeOne, class{pN, true}}, `\p{N}`},
		{&regexSplit{shapeThree, class{[][2]rune{{'0', '9'}}, false}}, `[0-9][0-9][0-9]`},
		{&regexSplit{shapeOne, class{chars("\r\n"), false}}, "[\r\n]"},
		{&regexSplit{shapeSpaceRun, class{pL, true}}, `\s?\p{L}+`},
		{&regexSplit{shapeSpaceRun, class{pP, true}}, `\s?\p{P}+`},
		{&regexSplit{shapeSpaceRun, class{ranges(deepseekLetters), false}}, `\s?[` + deepseekLetters + `]+`},
		{&regexSplit{shapeSpaceRun, class{ranges(deepseekPunct), false}}, `\s?[` + deepseekPunct + `]+`},
		{&regexSplit{shapeTrailWS, class{nil, false}}, `\s+$`},
		{&regexSplit{shapeRun, class{ranges(deepseekCJK), false}}, `[` + deepseekCJK + `]+`},
	}
	r := rand.New(rand.NewSource(1))
	for _, p := range pats {
		tr, collapsed := translate(p.pat)
		if collapsed != p.sp.cls.collapsed {
			t.Fatalf("%s: collapsed mode mismatch", p.pat)
		}
		o := &oracle{re: regexp.MustCompile(tr), collapsed: collapsed}
		for i := 0; i < 300; i++ {
			text := randomText(r, 1+r.Intn(40))
			var s splitState
			s.reset(decodeCpts(text, nil))
			n := len(s.cpts)
			// Split a random sub-piece too: matching must stay inside it.
			lo, hi := 0, n
			if i%2 == 1 && n > 2 {
				lo = r.Intn(n / 2)
				hi = lo + 1 + r.Intn(n-lo-1)
			}
			got := p.sp.split(&s, lo, hi, nil)
			want := o.split(&s, lo, hi)
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("%s on %q [%d,%d): got %v want %v", p.pat, text, lo, hi, got, want)
			}
		}
	}
}

// Words always tile the text exactly, for every pre-tokenizer.
func TestPreTokenizersCover(t *testing.T) {
	r := rand.New(rand.NewSource(2))
	for name, sp := range preSpecs {
		chain := sp.chain()
		for i := 0; i < 200; i++ {
			text := randomText(r, r.Intn(30))
			words := splitStrings(chain, text)
			for _, w := range words {
				if w == "" {
					t.Fatalf("%s: empty word in %q", name, text)
				}
			}
			if strings.Join(words, "") != text {
				t.Fatalf("%s: words %q do not cover %q", name, words, text)
			}
		}
	}
}

func TestUnknownNames(t *testing.T) {
	if _, err := lookupPre("tekken"); err == nil || !strings.Contains(err.Error(), `"tekken"`) {
		t.Fatalf("unsupported pre-tokenizer: err = %v", err)
	}
}

// Spot checks of the codepoint table against llama.cpp's unicode-data.cpp.
func TestCodepointFlags(t *testing.T) {
	cases := []struct {
		c    rune
		want uint16
	}{
		{'a', flagLetter}, {'0', flagNumber}, {' ', flagSeparator | flagSpace}, {'\n', flagControl | flagSpace},
		{'$', flagSymbol}, {'!', flagPunct}, {0x301, flagMark}, {0x85, flagControl | flagSpace},
		{0x3000, flagSeparator | flagSpace}, {0x200B, flagControl}, {0x378, flagUndefined},
		{0x2FFC, flagSymbol}, {0x31EF, flagSymbol}, {0x2EBF0, flagLetter}, {0x2EE5D, flagLetter}, {0x2EE5E, flagUndefined},
		{0x110000, flagUndefined},
	}
	for _, c := range cases {
		if got := cptFlags(c.c); got != c.want {
			t.Errorf("flags(%#x) = %#x, want %#x", c.c, got, c.want)
		}
	}
}

func TestDecodeCptsLax(t *testing.T) {
	got := decodeCpts("a\xe2\x82\xff\xed\xa0\x80é", nil)
	want := []rune{'a', 0xFFFD, 0xFFFD, 0xFFFD, 0xD800, 'é'}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %U want %U", got, want)
	}
}
