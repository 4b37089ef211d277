package convert

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/pagoda-llm/pagoda/loader"
)

// GGUF token types (tokenizer.ggml.token_type), the same numbers as
// SentencePiece's piece types.
const (
	tokNormal      = 1
	tokUnknown     = 2
	tokControl     = 3
	tokUserDefined = 4
	tokUnused      = 5
	tokByte        = 6
)

// SpPiece is one piece of a SentencePiece model.
type SpPiece struct {
	Piece string
	Score float32
	Type  int32 // 1 normal (the default), 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte
}

// ParseSentencePiece reads the pieces of a SentencePiece tokenizer.model
// (a serialized ModelProto: field 1 holds the pieces, each with piece = 1,
// score = 2 and type = 3). Other fields are skipped.
func ParseSentencePiece(b []byte) ([]SpPiece, error) {
	var pieces []SpPiece
	err := protoFields(b, func(field int, wire int, v uint64, data []byte) error {
		if field != 1 {
			return nil
		}
		if wire != 2 {
			return fmt.Errorf("piece field has wire type %d", wire)
		}
		p := SpPiece{Type: tokNormal}
		err := protoFields(data, func(field int, wire int, v uint64, data []byte) error {
			switch {
			case field == 1 && wire == 2:
				p.Piece = string(data)
			case field == 2 && wire == 5:
				p.Score = math.Float32frombits(uint32(v))
			case field == 3 && wire == 0:
				if v < 1 || v > 6 {
					return fmt.Errorf("piece %d has unknown type %d", len(pieces), v)
				}
				p.Type = int32(v)
			}
			return nil
		})
		if err != nil {
			return err
		}
		pieces = append(pieces, p)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("tokenizer.model: %w", err)
	}
	if len(pieces) == 0 {
		return nil, fmt.Errorf("tokenizer.model: no pieces (not a SentencePiece model?)")
	}
	return pieces, nil
}

// protoFields walks the fields of one protobuf message; v holds varint and
// fixed values, data the bytes of length-delimited fields.
func protoFields(b []byte, fn func(field, wire int, v uint64, data []byte) error) error {
	for len(b) > 0 {
		key, n := binary.Uvarint(b)
		if n <= 0 {
			return errors.New("malformed protobuf: bad field key")
		}
		b = b[n:]
		field, wire := int(key>>3), int(key&7)
		var v uint64
		var data []byte
		switch wire {
		case 0:
			v, n = binary.Uvarint(b)
			if n <= 0 {
				return errors.New("malformed protobuf: bad varint")
			}
			b = b[n:]
		case 1:
			if len(b) < 8 {
				return errors.New("malformed protobuf: truncated fixed64")
			}
			v, b = binary.LittleEndian.Uint64(b), b[8:]
		case 2:
			l, n := binary.Uvarint(b)
			if n <= 0 || l > uint64(len(b)-n) {
				return errors.New("malformed protobuf: bad length")
			}
			data, b = b[n:n+int(l)], b[n+int(l):]
		case 5:
			if len(b) < 4 {
				return errors.New("malformed protobuf: truncated fixed32")
			}
			v, b = uint64(binary.LittleEndian.Uint32(b)), b[4:]
		default:
			return fmt.Errorf("malformed protobuf: unsupported wire type %d", wire)
		}
		if field == 0 {
			return errors.New("malformed protobuf: field number 0")
		}
		if err := fn(field, wire, v, data); err != nil {
			return err
		}
	}
	return nil
}

// AppendSentencePiece serializes pieces as a minimal SentencePiece
// ModelProto (pieces only), the inverse of ParseSentencePiece; tests use it
// to write tokenizer.model files.
func AppendSentencePiece(b []byte, pieces []SpPiece) []byte {
	for _, p := range pieces {
		var m []byte
		m = binary.AppendUvarint(m, 1<<3|2)
		m = binary.AppendUvarint(m, uint64(len(p.Piece)))
		m = append(m, p.Piece...)
		m = binary.AppendUvarint(m, 2<<3|5)
		m = binary.LittleEndian.AppendUint32(m, math.Float32bits(p.Score))
		if p.Type != tokNormal {
			m = binary.AppendUvarint(m, 3<<3|0)
			m = binary.AppendUvarint(m, uint64(p.Type))
		}
		b = binary.AppendUvarint(b, 1<<3|2)
		b = binary.AppendUvarint(b, uint64(len(m)))
		b = append(b, m...)
	}
	return b
}

// hfTokenizer holds the parts of tokenizer.json the converter reads.
type hfTokenizer struct {
	Model struct {
		Type         string          `json:"type"`
		Vocab        map[string]int  `json:"vocab"`
		Merges       json.RawMessage `json:"merges"`
		ByteFallback bool            `json:"byte_fallback"`
	} `json:"model"`
	AddedTokens []struct {
		ID      int    `json:"id"`
		Content string `json:"content"`
		Special bool   `json:"special"`
	} `json:"added_tokens"`
	PreTokenizer  json.RawMessage `json:"pre_tokenizer"`
	PostProcessor json.RawMessage `json:"post_processor"`
}

// vocabResult is the tokenizer part of the GGUF metadata, in llama.cpp's
// key order.
type vocabResult struct {
	kvs    []loader.KV
	nVocab int
}

// loadVocab imports the tokenizer: tokenizer.model (SentencePiece, GGUF
// model "llama") when present, else a byte-level BPE tokenizer.json
// ("gpt2"), then the special tokens, add_bos/add_eos and chat template.
func loadVocab(dir string, hp hparams, p *llamaParams) (*vocabResult, error) {
	var tcfg map[string]any
	if err := readJSON(filepath.Join(dir, "tokenizer_config.json"), &tcfg); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("convert: %w", err)
	}
	var tj *hfTokenizer
	if err := readJSON(filepath.Join(dir, "tokenizer.json"), &tj); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("convert: %w", err)
	}
	res := &vocabResult{}
	add := func(k string, v loader.Value) { res.kvs = append(res.kvs, loader.KV{Key: k, Value: v}) }
	if b, ok := tcfg["add_prefix_space"].(bool); ok {
		add("tokenizer.ggml.add_space_prefix", loader.BoolValue(b))
	}
	spPath := filepath.Join(dir, "tokenizer.model")
	spData, err := os.ReadFile(spPath)
	switch {
	case err == nil:
		tokens, scores, types, err := sentencePieceVocab(dir, spData, tcfg, p)
		if err != nil {
			return nil, err
		}
		add("tokenizer.ggml.model", loader.StringValue("llama"))
		add("tokenizer.ggml.pre", loader.StringValue("default"))
		add("tokenizer.ggml.tokens", loader.StringsValue(tokens))
		add("tokenizer.ggml.scores", loader.Float32sValue(scores))
		add("tokenizer.ggml.token_type", loader.Int32sValue(types))
		res.nVocab = len(tokens)
	case !errors.Is(err, os.ErrNotExist):
		return nil, fmt.Errorf("convert: %w", err)
	case tj == nil:
		return nil, fmt.Errorf("convert: %s has neither tokenizer.model nor tokenizer.json", dir)
	default:
		if err := bpeVocab(tj, p, add, &res.nVocab); err != nil {
			return nil, err
		}
	}
	special, err := specialTokens(dir, hp, tj, tcfg, res.nVocab)
	if err != nil {
		return nil, err
	}
	res.kvs = append(res.kvs, special...)
	return res, nil
}

func sentencePieceVocab(dir string, data []byte, tcfg map[string]any, p *llamaParams) ([]string, []float32, []int32, error) {
	pieces, err := ParseSentencePiece(data)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("convert: %w", err)
	}
	n := len(pieces)
	if p.hasVocab {
		n = p.vocab
	}
	tokens := make([]string, n)
	scores := make([]float32, n)
	types := make([]int32, n)
	for i := range tokens {
		tokens[i] = "[PAD" + strconv.Itoa(i) + "]"
		scores[i] = -10000
		types[i] = tokUnused
	}
	for i, pc := range pieces {
		if i >= n {
			break // config.json's vocab_size is smaller: llama.cpp ignores the rest
		}
		tokens[i], scores[i] = pc.Piece, pc.Score
		// llama.cpp asks the SentencePiece processor IsUnknown / IsControl /
		// IsUnused / IsByte; anything else, user-defined pieces included, is normal.
		switch pc.Type {
		case tokUnknown, tokControl, tokUnused, tokByte:
			types[i] = pc.Type
		default:
			types[i] = tokNormal
		}
	}
	var added map[string]int
	if err := readJSON(filepath.Join(dir, "added_tokens.json"), &added); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, nil, nil, fmt.Errorf("convert: %w", err)
	}
	for _, k := range sortedKeys(added) {
		id := added[k]
		if id < 0 || id >= n {
			continue
		}
		tokens[id], scores[id], types[id] = k, -1000, tokUserDefined
	}
	if dec, ok := tcfg["added_tokens_decoder"].(map[string]any); ok {
		for _, k := range sortedKeys(dec) {
			id, err := strconv.Atoi(k)
			entry, isMap := dec[k].(map[string]any)
			content, isStr := entry["content"].(string)
			if err != nil || !isMap || !isStr {
				return nil, nil, nil, fmt.Errorf("convert: tokenizer_config.json: bad added_tokens_decoder entry %q", k)
			}
			if id < 0 || id >= n {
				continue
			}
			if sp, _ := entry["special"].(bool); sp || looksSpecial(content) {
				types[id] = tokControl
			} else {
				content = strings.ReplaceAll(content, "\u2581", " ")
				types[id] = tokUserDefined
			}
			scores[id] = -1000
			tokens[id] = content
		}
	}
	return tokens, scores, types, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func sortStrings(s []string) { sort.Strings(s) }

// looksSpecial is llama.cpp's does_token_look_special: added tokens some
// models forget to mark special.
func looksSpecial(t string) bool {
	switch t {
	case "<pad>", "<mask>", "<2mass>", "[@BOS@]":
		return true
	}
	return (strings.HasPrefix(t, "<|") && strings.HasSuffix(t, "|>")) ||
		(strings.HasPrefix(t, "<\uff5c") && strings.HasSuffix(t, "\uff5c>")) ||
		(strings.HasPrefix(t, "<unused") && strings.HasSuffix(t, ">"))
}

// Pre-tokenizer regexes of tokenizer.json files and the tokenizer.ggml.pre
// names llama.cpp's hash detection gives those models.
const (
	llama3Regex = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
	qwen2Regex  = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
)

// detectPre maps a tokenizer.json pre_tokenizer configuration to the
// tokenizer.ggml.pre name. llama.cpp hashes the tokenization of a test
// text instead; without the HF tokenizers library we recognise the
// configurations themselves.
func detectPre(raw json.RawMessage) (string, error) {
	type pt struct {
		Type           string `json:"type"`
		AddPrefixSpace bool   `json:"add_prefix_space"`
		UseRegex       *bool  `json:"use_regex"`
		Pattern        struct {
			Regex string `json:"Regex"`
		} `json:"pattern"`
		Behavior      string `json:"behavior"`
		Invert        bool   `json:"invert"`
		Pretokenizers []pt   `json:"pretokenizers"`
	}
	var p pt
	if len(raw) == 0 || string(raw) == "null" || json.Unmarshal(raw, &p) != nil {
		return "", fmt.Errorf("convert: tokenizer.json has no pre_tokenizer this converter recognises")
	}
	byteLevel := func(x pt, regex bool) bool {
		useRegex := x.UseRegex == nil || *x.UseRegex
		return x.Type == "ByteLevel" && !x.AddPrefixSpace && useRegex == regex
	}
	if byteLevel(p, true) {
		return "gpt-2", nil
	}
	if p.Type == "Sequence" && len(p.Pretokenizers) == 2 && byteLevel(p.Pretokenizers[1], false) {
		s := p.Pretokenizers[0]
		if s.Type == "Split" && s.Behavior == "Isolated" && !s.Invert {
			switch s.Pattern.Regex {
			case llama3Regex:
				return "llama-bpe", nil
			case qwen2Regex:
				return "qwen2", nil
			}
		}
	}
	return "", fmt.Errorf("convert: tokenizer.json pre_tokenizer %s is not recognised (supported: GPT-2 ByteLevel, llama 3 and qwen2 Split+ByteLevel)", truncate(string(raw), 200))
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// bpeVocab imports a byte-level BPE tokenizer.json as llama.cpp's
// _set_vocab_gpt2 does.
func bpeVocab(tj *hfTokenizer, p *llamaParams, add func(string, loader.Value), nVocab *int) error {
	if tj.Model.Type != "BPE" {
		return fmt.Errorf("convert: tokenizer.json model type %q is not supported (BPE), and there is no tokenizer.model", tj.Model.Type)
	}
	if tj.Model.ByteFallback {
		return fmt.Errorf("convert: tokenizer.json is a SentencePiece-style BPE (byte_fallback); converting it needs tokenizer.model")
	}
	pre, err := detectPre(tj.PreTokenizer)
	if err != nil {
		return err
	}
	byID := map[int]string{}
	maxID := -1
	for tok, id := range tj.Model.Vocab {
		if id < 0 {
			return fmt.Errorf("convert: tokenizer.json: token %q has negative id %d", tok, id)
		}
		byID[id] = tok
		maxID = max(maxID, id)
	}
	added := map[int]bool{}
	special := map[int]bool{}
	for _, a := range tj.AddedTokens {
		if a.ID < 0 {
			return fmt.Errorf("convert: tokenizer.json: added token %q has negative id %d", a.Content, a.ID)
		}
		byID[a.ID] = a.Content
		added[a.ID] = true
		special[a.ID] = a.Special
		maxID = max(maxID, a.ID)
	}
	n := len(byID)
	if p.hasVocab {
		n = p.vocab
	}
	if maxID >= n {
		return fmt.Errorf("convert: tokenizer.json has token id %d, beyond the vocabulary size %d", maxID, n)
	}
	tokens := make([]string, n)
	types := make([]int32, n)
	for i := range tokens {
		tok, ok := byID[i]
		switch {
		case !ok:
			tokens[i], types[i] = "[PAD"+strconv.Itoa(i)+"]", tokUnused
		case added[i] && (special[i] || looksSpecial(tok)):
			tokens[i], types[i] = tok, tokControl
		case added[i]:
			tokens[i], types[i] = strings.ReplaceAll(tok, "\u2581", " "), tokUserDefined
		default:
			tokens[i], types[i] = tok, tokNormal
		}
	}
	merges, err := parseMerges(tj.Model.Merges)
	if err != nil {
		return err
	}
	if len(merges) == 0 {
		return fmt.Errorf("convert: tokenizer.json has no merges")
	}
	add("tokenizer.ggml.model", loader.StringValue("gpt2"))
	add("tokenizer.ggml.pre", loader.StringValue(pre))
	add("tokenizer.ggml.tokens", loader.StringsValue(tokens))
	add("tokenizer.ggml.token_type", loader.Int32sValue(types))
	add("tokenizer.ggml.merges", loader.StringsValue(merges))
	*nVocab = n
	return nil
}

// parseMerges accepts both merge formats: "a b" strings, and [a, b] pairs
// (transformers ≥ 4.45), whose spaces llama.cpp encodes as U+0120.
func parseMerges(raw json.RawMessage) ([]string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var strs []string
	if json.Unmarshal(raw, &strs) == nil {
		return strs, nil
	}
	var pairs [][]string
	if err := json.Unmarshal(raw, &pairs); err != nil {
		return nil, fmt.Errorf("convert: tokenizer.json: unknown merges format")
	}
	out := make([]string, len(pairs))
	for i, pr := range pairs {
		if len(pr) != 2 {
			return nil, fmt.Errorf("convert: tokenizer.json: merge %d has %d parts", i, len(pr))
		}
		out[i] = strings.ReplaceAll(pr[0], " ", "\u0120") + " " + strings.ReplaceAll(pr[1], " ", "\u0120")
	}
	return out, nil
}

// specialTypes are SpecialVocab's token kinds that have GGUF keys.
type specialType struct{ typ, key, addKey string }

var specialTypes = []specialType{
	{"bos", "tokenizer.ggml.bos_token_id", "tokenizer.ggml.add_bos_token"},
	{"eos", "tokenizer.ggml.eos_token_id", "tokenizer.ggml.add_eos_token"},
	{"unk", "tokenizer.ggml.unknown_token_id", ""},
	{"sep", "tokenizer.ggml.seperator_token_id", "tokenizer.ggml.add_sep_token"},
	{"pad", "tokenizer.ggml.padding_token_id", ""},
	{"cls", "", ""},
	{"mask", "tokenizer.ggml.mask_token_id", ""},
}

// specialTokens follows gguf-py's SpecialVocab: ids from tokenizer_config's
// *_token contents looked up in tokenizer.json's added tokens, then
// config.json's *_token_id; add_*_token from tokenizer.json's post
// processor and tokenizer_config; the chat template.
func specialTokens(dir string, hp hparams, tj *hfTokenizer, tcfg map[string]any, nVocab int) ([]loader.KV, error) {
	type idEntry struct {
		key string
		id  int
	}
	var ids []idEntry
	have := map[string]bool{}
	setID := func(key string, v any) error {
		x, ok := v.(float64)
		if !ok || key == "" || x != math.Trunc(x) {
			return nil
		}
		if x < 0 {
			return fmt.Errorf("convert: invalid special token id %v for %s", v, key)
		}
		if x >= float64(nVocab) || have[key] {
			return nil
		}
		have[key] = true
		ids = append(ids, idEntry{key, int(x)})
		return nil
	}
	type addEntry struct {
		key string
		v   bool
	}
	var adds []addEntry
	setAdd := func(key string, v bool) {
		if key == "" {
			return
		}
		for i := range adds {
			if adds[i].key == key {
				adds[i].v = v
				return
			}
		}
		adds = append(adds, addEntry{key, v})
	}
	// The post processor can rename tokenizer_config's tokens, as in
	// SpecialVocab: overrides[typ] replaces tokenizer_config's <typ>_token.
	overrides := map[string]string{}
	types := specialTypes
	content := func(typ string) string {
		if c, ok := overrides[typ]; ok {
			return c
		}
		switch e := tcfg[typ+"_token"].(type) {
		case string:
			return e
		case map[string]any:
			s, _ := e["content"].(string)
			return s
		}
		return ""
	}
	if tj != nil && tcfg != nil {
		// BERT-style configurations name CLS and SEP only.
		if content("bos") == "" && content("cls") != "" {
			overrides["bos"] = content("cls")
		}
		if content("eos") == "" && content("sep") != "" {
			overrides["eos"] = content("sep")
		}
	}
	if tj != nil && len(tj.PostProcessor) > 0 {
		var pp struct {
			Processors []json.RawMessage `json:"processors"`
		}
		if json.Unmarshal(tj.PostProcessor, &pp) == nil {
			procs := []json.RawMessage{tj.PostProcessor}
			if pp.Processors != nil {
				procs = pp.Processors
			}
			for _, raw := range procs {
				var p struct {
					Type   string `json:"type"`
					Single []map[string]struct {
						ID string `json:"id"`
					} `json:"single"`
				}
				if json.Unmarshal(raw, &p) != nil || p.Type != "TemplateProcessing" || len(p.Single) <= 1 {
					continue
				}
				// A leading special token is BOS (or CLS); one that is
				// neither fills whichever of the two is unset.
				if first := p.Single[0]["SpecialToken"].ID; first != "" {
					if tcfg == nil {
						setAdd("tokenizer.ggml.add_bos_token", true)
					} else {
						if first != content("bos") && first != content("cls") {
							if content("bos") == "" {
								overrides["bos"] = first
							}
							if content("cls") == "" {
								overrides["cls"] = first
							}
						}
						setAdd("tokenizer.ggml.add_bos_token", first == content("bos") || first == content("cls"))
					}
				}
				// A trailing special token becomes EOS; a different EOS
				// from tokenizer_config is kept as EOT.
				if last := p.Single[len(p.Single)-1]["SpecialToken"].ID; last != "" {
					if tcfg != nil && last != content("eos") {
						if _, ok := overrides["eot"]; !ok {
							types = append(append([]specialType(nil), types...), specialType{"eot", "tokenizer.ggml.eot_token_id", ""})
							overrides["eot"] = content("eos")
						}
						overrides["eos"] = last
					}
					setAdd("tokenizer.ggml.add_eos_token", true)
				}
			}
		}
	}
	var chat any
	if tcfg != nil {
		for _, st := range types {
			if b, ok := tcfg["add_"+st.typ+"_token"].(bool); ok {
				setAdd(st.addKey, b)
			}
			c := content(st.typ)
			if c == "" || tj == nil {
				continue
			}
			for _, a := range tj.AddedTokens {
				if a.Content == c {
					if err := setID(st.key, float64(a.ID)); err != nil {
						return nil, err
					}
					break
				}
			}
		}
		chat = tcfg["chat_template"]
		if chat == nil {
			if b, err := os.ReadFile(filepath.Join(dir, "chat_template.jinja")); err == nil {
				chat = string(b)
			} else {
				var ct struct {
					ChatTemplate any `json:"chat_template"`
				}
				if readJSON(filepath.Join(dir, "chat_template.json"), &ct) == nil {
					chat = ct.ChatTemplate
				}
			}
		}
	}
	for _, st := range types {
		v, ok := hp[st.typ+"_token_id"]
		if !ok {
			if tc, isMap := hp["text_config"].(map[string]any); isMap {
				v = tc[st.typ+"_token_id"]
			}
		}
		if err := setID(st.key, v); err != nil {
			return nil, err
		}
	}
	var kvs []loader.KV
	for _, e := range ids {
		kvs = append(kvs, loader.KV{Key: e.key, Value: loader.Uint32Value(uint32(e.id))})
	}
	for _, e := range adds {
		kvs = append(kvs, loader.KV{Key: e.key, Value: loader.BoolValue(e.v)})
	}
	switch c := chat.(type) {
	case nil:
	case string:
		kvs = append(kvs, loader.KV{Key: "tokenizer.chat_template", Value: loader.StringValue(c)})
	case []any:
		// Named templates: "default" is the chat template, the others are
		// listed in tokenizer.chat_templates.
		var names []string
		for _, x := range c {
			m, _ := x.(map[string]any)
			name, _ := m["name"].(string)
			tmpl, _ := m["template"].(string)
			if name == "" || tmpl == "" {
				continue
			}
			if name == "default" {
				kvs = append(kvs, loader.KV{Key: "tokenizer.chat_template", Value: loader.StringValue(tmpl)})
			} else {
				kvs = append(kvs, loader.KV{Key: "tokenizer.chat_template." + name, Value: loader.StringValue(tmpl)})
				names = append(names, name)
			}
		}
		if len(names) > 0 {
			kvs = append(kvs, loader.KV{Key: "tokenizer.chat_templates", Value: loader.StringsValue(names)})
		}
	default:
		return nil, fmt.Errorf("convert: tokenizer_config.json: chat_template must be a string or a list, got %T", chat)
	}
	return kvs, nil
}
