// Package tokenizer turns text into token ids and back exactly as llama.cpp
// does (src/llama-vocab.cpp, src/unicode.cpp), from a GGUF file's
// tokenizer.ggml.* metadata. It supports the SentencePiece-style "llama"
// model (scores, byte fallback), byte-level BPE ("gpt2", with the
// pre-tokenizers listed in preSpecs) and WordPiece ("bert").
//
// A Tokenizer is immutable after FromGGUF and safe for concurrent use.
package tokenizer

import (
	"fmt"
	"sort"
	"strings"

	"github.com/pagoda-llm/pagoda/loader"
)

// Token attributes, as llama.cpp's llama_token_attr bit flags.
const (
	attrUnknown     uint32 = 1 << 0
	attrUnused      uint32 = 1 << 1
	attrNormal      uint32 = 1 << 2
	attrControl     uint32 = 1 << 3
	attrUserDefined uint32 = 1 << 4
	attrByte        uint32 = 1 << 5
	attrLStrip      uint32 = 1 << 7
	attrRStrip      uint32 = 1 << 8
)

// Model kinds (tokenizer.ggml.model).
const (
	kindSPM = iota // "llama"
	kindBPE        // "gpt2"
	kindWPM        // "bert"
)

// Tokenizer is a vocabulary with its encoding rules.
type Tokenizer struct {
	kind   int
	model  string
	pre    string
	tokens []string
	scores []float32
	attrs  []uint32
	ids    map[string]int32

	merges      map[string]int32 // "left\x00right" -> rank
	chain       []splitter
	maxTokenLen int

	bos, eos, eot, eom, unk, sep, pad int32
	eog                               map[int32]bool

	addBOS, addEOS    bool
	addSpacePrefix    bool
	cleanSpaces       bool
	ignoreMerges      bool
	lowercase         bool
	stripAccents      bool
	specials          []int32 // control, user-defined and unknown tokens, longest text first
	pieces            []string
	byteTokens        [256]int32 // SPM byte fallback ids (-1: none)
	bpeByteTokens     [256]int32 // BPE: token of a lone raw byte (-1: none)
	byteEncodedString [256]string
	spaceCuts         bool // no token has "▁" after another character (SPM may cut there)
}

// Token types stored in tokenizer.ggml.token_type.
const (
	typeNormal      = 1
	typeUnknown     = 2
	typeControl     = 3
	typeUserDefined = 4
	typeUnused      = 5
	typeByte        = 6
)

const null int32 = -1

// FromGGUF builds the tokenizer described by f's tokenizer.ggml.* keys,
// following llama_vocab::impl::load: the same defaults, the same overrides
// by key, the same text-based detection of end-of-generation tokens.
func FromGGUF(f *loader.File) (*Tokenizer, error) {
	t := &Tokenizer{eot: null, eom: null, sep: null, pad: null}
	model, ok := getString(f, "tokenizer.ggml.model")
	if !ok {
		return nil, fmt.Errorf("tokenizer: missing tokenizer.ggml.model")
	}
	t.model = model
	t.pre, _ = getString(f, "tokenizer.ggml.pre")

	var pre preSpec
	switch model {
	case "llama":
		t.kind = kindSPM
		t.bos, t.eos, t.unk = 1, 2, 0
		t.addSpacePrefix, t.addBOS, t.addEOS = true, true, false
	case "gpt2":
		t.kind = kindBPE
		t.bos, t.eos, t.unk = 11, 11, null
		var err error
		if pre, err = lookupPre(t.pre); err != nil {
			return nil, err
		}
		t.chain = pre.chain()
		t.cleanSpaces, t.ignoreMerges = pre.cleanSpaces, pre.ignoreMerges
		if pre.forceBOS {
			t.addBOS = true
		}
	case "bert":
		t.kind = kindWPM
		t.bos, t.eos, t.unk, t.sep, t.pad = 101, null, 100, 102, 0
		t.cleanSpaces, t.addBOS = true, true
	default:
		return nil, fmt.Errorf("tokenizer: unsupported tokenizer model %q (tokenizer.ggml.model); supported: llama (SentencePiece), gpt2 (byte-level BPE), bert (WordPiece)", model)
	}
	if v, ok := getBool(f, "tokenizer.ggml.add_space_prefix"); ok {
		t.addSpacePrefix = v
	}

	v, ok := f.Get("tokenizer.ggml.tokens")
	if !ok {
		return nil, fmt.Errorf("tokenizer: missing tokenizer.ggml.tokens")
	}
	tokens, ok := v.Strings()
	if !ok {
		return nil, fmt.Errorf("tokenizer: tokenizer.ggml.tokens is %v, want an array of strings", v.Type)
	}
	n := len(tokens)
	if n == 0 || n > 1<<30 {
		return nil, fmt.Errorf("tokenizer: tokenizer.ggml.tokens has %d entries", n)
	}
	t.tokens = make([]string, n)
	t.scores = make([]float32, n)
	t.attrs = make([]uint32, n)
	t.ids = make(map[string]int32, n)
	if v, ok := f.Get("tokenizer.ggml.scores"); ok {
		sc, ok := v.Float32s()
		if !ok {
			if is, ok2 := v.Int32s(); ok2 {
				sc = make([]float32, len(is))
				for i, x := range is {
					sc[i] = float32(x)
				}
				ok = true
			}
		}
		if !ok {
			return nil, fmt.Errorf("tokenizer: tokenizer.ggml.scores is not an array of float32 or int32")
		}
		if len(sc) < n {
			return nil, fmt.Errorf("tokenizer: tokenizer.ggml.scores has %d entries for %d tokens", len(sc), n)
		}
		copy(t.scores, sc)
	}
	var types []int32
	if v, ok := f.Get("tokenizer.ggml.token_type"); ok {
		if types, ok = v.Int32s(); !ok {
			return nil, fmt.Errorf("tokenizer: tokenizer.ggml.token_type is not an array of int32")
		}
		if len(types) < n {
			return nil, fmt.Errorf("tokenizer: tokenizer.ggml.token_type has %d entries for %d tokens", len(types), n)
		}
	}
	for i, w := range tokens {
		if w == "" {
			w = fmt.Sprintf("[EMPTY_%d]", i)
		}
		t.tokens[i] = w
		t.ids[w] = int32(i) // a repeated string maps to its last id, as in llama.cpp
		t.maxTokenLen = max(t.maxTokenLen, len(w))
		t.attrs[i] = attrNormal
		if types != nil {
			switch types[i] {
			case typeUnknown:
				t.attrs[i] = attrUnknown
			case typeUnused:
				t.attrs[i] = attrUnused
			case typeNormal:
				t.attrs[i] = attrNormal
			case typeControl:
				t.attrs[i] = attrControl
			case typeUserDefined:
				t.attrs[i] = attrUserDefined
			case typeByte:
				t.attrs[i] = attrByte
			default:
				t.attrs[i] = 0 // undefined
			}
		}
	}

	if t.kind == kindBPE {
		v, ok := f.Get("tokenizer.ggml.merges")
		if !ok {
			return nil, fmt.Errorf("tokenizer: missing tokenizer.ggml.merges for a gpt2 (BPE) tokenizer")
		}
		merges, ok := v.Strings()
		if !ok {
			return nil, fmt.Errorf("tokenizer: tokenizer.ggml.merges is not an array of strings")
		}
		t.merges = make(map[string]int32, len(merges))
		for i, m := range merges {
			var a, b string
			if len(m) > 1 {
				if p := strings.IndexByte(m[1:], ' '); p >= 0 {
					a, b = m[:p+1], m[p+2:]
				}
			}
			key := a + "\x00" + b
			if _, dup := t.merges[key]; !dup {
				t.merges[key] = int32(i)
			}
		}
	}

	// Special token ids: defaults out of range are disabled; a key out of
	// range is ignored (llama.cpp warns and keeps the default).
	for _, s := range []struct {
		key string
		id  *int32
	}{
		{"bos_token_id", &t.bos}, {"eos_token_id", &t.eos}, {"eot_token_id", &t.eot}, {"eom_token_id", &t.eom},
		{"unknown_token_id", &t.unk}, {"seperator_token_id", &t.sep}, {"padding_token_id", &t.pad},
	} {
		if *s.id >= int32(n) {
			*s.id = null
		}
		if v, ok := f.Get("tokenizer.ggml." + s.key); ok {
			if u, ok := v.Uint(); ok && u < uint64(n) {
				*s.id = int32(u)
			}
		}
	}
	if v, ok := getBool(f, "tokenizer.ggml.add_bos_token"); ok {
		t.addBOS = v
	}
	if v, ok := getBool(f, "tokenizer.ggml.add_eos_token"); ok {
		t.addEOS = v
	}
	t.lowercase = true
	if v, ok := getBool(f, "tokenizer.ggml.normalizer.lowercase"); ok {
		t.lowercase = v
	}
	t.stripAccents = t.lowercase
	if v, ok := getBool(f, "tokenizer.ggml.normalizer.strip_accents"); ok {
		t.stripAccents = v
	}

	t.detectSpecial(f)

	// The special-token list used to split text: longest first. llama.cpp's
	// std::sort leaves ties in an unspecified order; ties go by id here.
	for id := range t.tokens {
		if t.attrs[id]&(attrControl|attrUserDefined|attrUnknown) != 0 {
			t.specials = append(t.specials, int32(id))
		}
	}
	sort.SliceStable(t.specials, func(a, b int) bool {
		return len(t.tokens[t.specials[a]]) > len(t.tokens[t.specials[b]])
	})

	for b := 0; b < 256; b++ {
		t.byteTokens[b], t.bpeByteTokens[b] = null, null
		if id, ok := t.ids[fmt.Sprintf("<0x%02X>", b)]; ok {
			t.byteTokens[b] = id
		} else if id, ok := t.ids[string([]byte{byte(b)})]; ok {
			t.byteTokens[b] = id
		}
		if id, ok := t.ids[string([]byte{byte(b)})]; ok {
			t.bpeByteTokens[b] = id
		}
		t.byteEncodedString[b] = string(appendCpt(nil, byteToCpt[b]))
	}

	t.spaceCuts = true
	for _, w := range t.tokens {
		rest := strings.TrimLeft(w, "\u2581")
		if strings.Contains(rest, "\u2581") {
			t.spaceCuts = false
			break
		}
	}

	t.pieces = make([]string, n)
	for id := range t.pieces {
		t.pieces[id] = t.piece(int32(id))
	}

	// Per-model attributes set after the caches, as llama.cpp does.
	name, _ := getString(f, "general.name")
	name = strings.ToLower(name)
	if strings.Contains(name, "phi-3") || strings.Contains(name, "phi3") {
		for _, id := range t.specials {
			t.attrs[id] |= attrRStrip
		}
		t.setAttr("</s>", attrRStrip, true)
		for _, s := range []string{"<unk>", "<s>", "<|endoftext|>"} {
			t.setAttr(s, attrRStrip, false)
		}
	}
	return t, nil
}

func (t *Tokenizer) setAttr(text string, a uint32, on bool) {
	id, ok := t.ids[text]
	if !ok {
		return
	}
	if on {
		t.attrs[id] |= a
	} else {
		t.attrs[id] &^= a
	}
}

// Token texts llama.cpp recognises as end of turn / generation.
var (
	eotTexts = []string{"<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|end_of_text|>",
		"<EOT>", "_<EOT>", "[EOT]", "<｜end▁of▁sentence｜>", "<end_of_utterance>"}
	eogTexts = []string{"<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<|flush|>", "<|calls|>",
		"<end_of_turn>", "<|endoftext|>", "</s>", "<|eom_id|>", "<EOT>", "_<EOT>", "[EOT]", "[EOS]",
		"<|end_of_text|>", "<end_of_utterance>", "<eos>", "<turn|>", "<|tool_response>", "<｜end▁of▁sentence｜>", "[e~["}
	fimPadTexts = []string{"<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]"}
	fimRepTexts = []string{"<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>"}
	fimSepTexts = []string{"<|file_sep|>"}
	fimPreTexts = []string{"<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>", "<｜fim▁begin｜>", "<PRE>", "▁<PRE>", "<|code_prefix|>", "<|prefix|>"}
	fimSufTexts = []string{"<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>", "<｜fim▁hole｜>", "<SUF>", "▁<SUF>", "<|code_suffix|>", "<|suffix|>"}
	fimMidTexts = []string{"<|fim_middle|>", "<fim-middle>", "<fim_middle>", "<｜fim▁end｜>", "<MID>", "▁<MID>", "<|code_middle|>", "<|middle|>"}
)

// detectSpecial mirrors llama.cpp's text-based detection of EOT/EOM/FIM
// tokens and of the end-of-generation set. llama.cpp walks an unordered
// map, so when several texts qualify its pick is unspecified; here the
// text listed first wins (<|im_end|> before <|endoftext|>, <|end|> before
// <|endoftext|>), which is what llama.cpp reports for Qwen2 and Phi-3.
func (t *Tokenizer) detectSpecial(f *loader.File) {
	in := func(s string, list []string) bool {
		for _, x := range list {
			if s == x {
				return true
			}
		}
		return false
	}
	n := int32(len(t.tokens))
	keyID := func(keys ...string) int32 {
		id := null
		for _, k := range keys {
			if v, ok := f.Get("tokenizer.ggml." + k); ok {
				if u, ok := v.Uint(); ok && u < uint64(n) {
					id = int32(u)
				}
			}
		}
		return id
	}
	fimPre := keyID("fim_pre_token_id", "prefix_token_id")
	fimSuf := keyID("fim_suf_token_id", "suffix_token_id")
	fimMid := keyID("fim_mid_token_id", "middle_token_id")
	fimPad := keyID("fim_pad_token_id")
	fimRep := keyID("fim_rep_token_id")
	fimSep := keyID("fim_sep_token_id")
	detect := func(id *int32, list []string) {
		if *id != null {
			return
		}
		for _, s := range list {
			if i, ok := t.ids[s]; ok {
				*id = i
				t.attrs[i] |= attrControl
				return
			}
		}
	}
	detect(&t.eot, eotTexts)
	detect(&t.eom, []string{"<|eom_id|>"})
	detect(&fimPre, fimPreTexts)
	detect(&fimSuf, fimSufTexts)
	detect(&fimMid, fimMidTexts)
	detect(&fimPad, fimPadTexts)
	detect(&fimRep, fimRepTexts)
	detect(&fimSep, fimSepTexts)
	// llama.cpp walks its text->id map: a repeated text counts once, for its last id.
	for id, s := range t.tokens {
		if t.ids[s] != int32(id) {
			continue
		}
		if t.attrs[id]&attrControl != 0 && strings.Contains(s, "unused") {
			t.attrs[id] |= attrUnused
		}
	}
	t.eog = map[int32]bool{}
	for _, id := range []int32{fimPad, fimRep, fimSep} {
		if id != null {
			t.eog[id] = true
		}
	}
	for id, s := range t.tokens {
		if t.ids[s] == int32(id) && in(s, eogTexts) {
			t.eog[int32(id)] = true
			t.attrs[id] |= attrControl
		}
	}
	for _, s := range []string{"<|channel|>", "<|message|>", "<|start|>", "<|constrain|>"} {
		if id, ok := t.ids[s]; ok {
			t.attrs[id] = attrUserDefined
		}
	}
	for _, id := range []int32{t.eos, t.eot, t.eom} {
		if id != null {
			t.eog[id] = true
		}
	}
	// o200k_harmony / solar-open: <|end|> is not end of generation there.
	has := func(s string) bool { id, ok := t.ids[s]; return ok && t.eog[id] }
	if end, ok := t.ids["<|end|>"]; ok && t.eog[end] &&
		((has("<|return|>") && (has("<|call|>") || has("<|calls|>"))) || ((has("<|call|>") || has("<|calls|>")) && has("<|flush|>"))) {
		delete(t.eog, end)
		t.attrs[end] = attrUserDefined
	}
	if s, ok := t.ids["</s>"]; ok && t.eog[s] && has("<|tool_response>") {
		delete(t.eog, s)
		t.attrs[s] = attrNormal
	}
}

func getString(f *loader.File, key string) (string, bool) {
	v, ok := f.Get(key)
	if !ok {
		return "", false
	}
	return v.Str()
}

func getBool(f *loader.File, key string) (bool, bool) {
	v, ok := f.Get(key)
	if !ok {
		return false, false
	}
	return v.Bool()
}

// VocabSize is the number of tokens.
func (t *Tokenizer) VocabSize() int { return len(t.tokens) }

// BOS is the beginning-of-sequence id (-1 when none).
func (t *Tokenizer) BOS() int32 { return t.bos }

// EOS is the end-of-sequence id (-1 when none).
func (t *Tokenizer) EOS() int32 { return t.eos }

// EOT is the end-of-turn id (-1 when none).
func (t *Tokenizer) EOT() int32 { return t.eot }

// Unk is the unknown-token id (-1 when none).
func (t *Tokenizer) Unk() int32 { return t.unk }

// Sep is the separator id (-1 when none); WordPiece appends it.
func (t *Tokenizer) Sep() int32 { return t.sep }

// Pad is the padding id (-1 when none).
func (t *Tokenizer) Pad() int32 { return t.pad }

// IsEOG reports whether id ends generation (EOS, EOT, EOM and the tokens
// llama.cpp recognises by their text, such as <|im_end|>).
func (t *Tokenizer) IsEOG(id int32) bool { return t.eog[id] }

// AddBOS reports whether Encode with addSpecial prepends BOS.
func (t *Tokenizer) AddBOS() bool { return t.addBOS }

// AddEOS reports whether Encode with addSpecial appends EOS.
func (t *Tokenizer) AddEOS() bool { return t.addEOS }

// Model is tokenizer.ggml.model ("llama", "gpt2" or "bert").
func (t *Tokenizer) Model() string { return t.model }

// Pre is the pre-tokenizer name from tokenizer.ggml.pre ("" when absent).
func (t *Tokenizer) Pre() string { return t.pre }

// Token returns the raw vocabulary string of id ("" when out of range).
func (t *Tokenizer) Token(id int32) string {
	if id < 0 || int(id) >= len(t.tokens) {
		return ""
	}
	return t.tokens[id]
}

// IsControl reports whether id is a control token (rendered only as special text).
func (t *Tokenizer) IsControl(id int32) bool {
	return id >= 0 && int(id) < len(t.attrs) && t.attrs[id]&attrControl != 0
}
