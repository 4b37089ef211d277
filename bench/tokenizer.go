package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
)

// Tokenizer turns text into token ids and back. The server's /tokenize
// endpoint is one implementation; a local GGUF tokenizer can be another.
type Tokenizer interface {
	Encode(ctx context.Context, text string) ([]int, error)
	// Decode returns ErrDecodeUnsupported when the tokenizer cannot decode;
	// callers then size text by whole words instead.
	Decode(ctx context.Context, ids []int) (string, error)
}

// ErrDecodeUnsupported is returned by Decode of tokenizers without one.
var ErrDecodeUnsupported = errors.New("bench: tokenizer cannot decode")

// Request/response shapes of the two tokenize APIs in the wild.
const (
	shapeVLLM  = "vllm"         // {"model","prompt"} -> {"tokens"}; detokenize {"model","tokens"} -> {"prompt"}
	shapeLlama = "llama-server" // {"content"} -> {"tokens"}; detokenize {"tokens"} -> {"content"}
)

// ServerTokenizer uses the server's POST /tokenize and /detokenize.
type ServerTokenizer struct {
	client    *http.Client
	baseURL   string
	model     string
	apiKey    string
	shape     string
	canDecode bool
}

// probeText is tokenized to learn which API shape the server speaks; any
// real tokenizer gives it several tokens.
const probeText = "Hello world, this is a tokenizer probe."

// NewServerTokenizer finds out whether the server at baseURL (without /v1)
// tokenizes text, trying vLLM's request shape, then llama-server's, and
// whether it also detokenizes.
func NewServerTokenizer(ctx context.Context, client *http.Client, baseURL, model, apiKey string) (*ServerTokenizer, error) {
	if client == nil {
		client = http.DefaultClient
	}
	t := &ServerTokenizer{client: client, baseURL: strings.TrimRight(baseURL, "/"), model: model, apiKey: apiKey}
	var errs []error
	for _, shape := range []string{shapeVLLM, shapeLlama} {
		t.shape = shape
		ids, err := t.Encode(ctx, probeText)
		if err == nil && len(ids) == 0 {
			// llama-server answers vLLM's shape with an empty list.
			err = errors.New("empty token list")
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s shape: %w", shape, err))
			if ctx.Err() != nil {
				break
			}
			continue
		}
		t.canDecode = true
		if s, err := t.Decode(ctx, ids); err != nil || strings.TrimSpace(s) == "" {
			t.canDecode = false
		}
		return t, nil
	}
	return nil, fmt.Errorf("bench: no usable %s/tokenize: %w", t.baseURL, errors.Join(errs...))
}

// Name says which API the tokenizer speaks, for reports.
func (t *ServerTokenizer) Name() string {
	d := "no /detokenize"
	if t.canDecode {
		d = "with /detokenize"
	}
	return fmt.Sprintf("server /tokenize (%s shape, %s)", t.shape, d)
}

// Encode tokenizes text without adding special tokens (no BOS).
func (t *ServerTokenizer) Encode(ctx context.Context, text string) ([]int, error) {
	var body any
	if t.shape == shapeVLLM {
		body = map[string]any{"model": t.model, "prompt": text, "add_special_tokens": false}
	} else {
		body = map[string]any{"content": text, "add_special": false}
	}
	var out struct {
		Tokens []json.RawMessage `json:"tokens"`
	}
	if err := t.post(ctx, "/tokenize", body, &out); err != nil {
		return nil, err
	}
	ids := make([]int, len(out.Tokens))
	for i, raw := range out.Tokens {
		// llama-server's with_pieces form is {"id":..,"piece":..}; accept both.
		if err := json.Unmarshal(raw, &ids[i]); err != nil {
			var obj struct {
				ID *int `json:"id"`
			}
			if err2 := json.Unmarshal(raw, &obj); err2 != nil || obj.ID == nil {
				return nil, fmt.Errorf("bench: /tokenize: token %d is %s", i, raw)
			}
			ids[i] = *obj.ID
		}
	}
	return ids, nil
}

// Decode turns ids back into text through /detokenize.
func (t *ServerTokenizer) Decode(ctx context.Context, ids []int) (string, error) {
	if t.shape == "" {
		return "", ErrDecodeUnsupported
	}
	if ids == nil {
		ids = []int{}
	}
	var body any
	if t.shape == shapeVLLM {
		body = map[string]any{"model": t.model, "tokens": ids}
	} else {
		body = map[string]any{"tokens": ids}
	}
	var out struct {
		Prompt  *string `json:"prompt"`
		Content *string `json:"content"`
	}
	if err := t.post(ctx, "/detokenize", body, &out); err != nil {
		return "", err
	}
	switch {
	case out.Prompt != nil:
		return *out.Prompt, nil
	case out.Content != nil:
		return *out.Content, nil
	}
	return "", errors.New("bench: /detokenize: response has neither prompt nor content")
}

func (t *ServerTokenizer) canDecodeText() bool { return t.canDecode }

func (t *ServerTokenizer) post(ctx context.Context, path string, body, out any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("bench: %s: %w", path, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.baseURL+path, bytes.NewReader(b))
	if err != nil {
		return fmt.Errorf("bench: %s: %w", path, err)
	}
	req.Header.Set("Content-Type", "application/json")
	if t.apiKey != "" {
		req.Header.Set("Authorization", "Bearer "+t.apiKey)
	}
	resp, err := t.client.Do(req)
	if err != nil {
		return fmt.Errorf("bench: %s: %w", path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("bench: %s: reading response: %w", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("bench: %s: HTTP %d: %s", path, resp.StatusCode, truncate(string(data), 200))
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("bench: %s: decoding response: %w", path, err)
	}
	return nil
}

// ApproxWordsPerToken is the estimate used when no tokenizer is available:
// English text runs about 0.75 words per token in common BPE vocabularies.
const ApproxWordsPerToken = 0.75

// ApproxTokenizer estimates token counts from word counts. Its ids are
// placeholders (all zero); only their number means anything.
type ApproxTokenizer struct{}

// Encode returns round(words / ApproxWordsPerToken) placeholder ids.
func (ApproxTokenizer) Encode(_ context.Context, text string) ([]int, error) {
	n := int(math.Round(float64(len(strings.Fields(text))) / ApproxWordsPerToken))
	return make([]int, n), nil
}

// Decode is not possible for an estimate.
func (ApproxTokenizer) Decode(context.Context, []int) (string, error) {
	return "", ErrDecodeUnsupported
}

// canDecode reports whether Decode is worth trying on tok.
func canDecode(tok Tokenizer) bool {
	switch t := tok.(type) {
	case ApproxTokenizer, *ApproxTokenizer:
		return false
	case interface{ canDecodeText() bool }:
		return t.canDecodeText()
	}
	return true
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
