package api

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/valyala/fasthttp"
)

type modelCard struct {
	ID          string `json:"id"`
	Object      string `json:"object"`
	Created     int64  `json:"created"`
	OwnedBy     string `json:"owned_by"`
	Root        string `json:"root"`
	MaxModelLen int    `json:"max_model_len"`
}

func (s *Server) card(m *Model) modelCard {
	return modelCard{ID: m.Name, Object: "model", Created: s.started.Unix(), OwnedBy: "pagoda", Root: m.Name, MaxModelLen: m.Backend.MaxModelLen()}
}

func (s *Server) listModels(ctx *fasthttp.RequestCtx, m *Model, _ *reqState) *apiError {
	writeJSON(ctx, fasthttp.StatusOK, map[string]any{"object": "list", "data": []modelCard{s.card(m)}})
	return nil
}

func (s *Server) getModel(ctx *fasthttp.RequestCtx, m *Model, _ *reqState) *apiError {
	id := strings.TrimPrefix(string(ctx.Path()), "/v1/models/")
	if id != m.Name {
		return &apiError{Status: fasthttp.StatusNotFound, Type: typeInvalidRequest, Param: "model", Code: "model_not_found",
			Message: fmt.Sprintf("the model %q does not exist; this server serves %q", id, m.Name)}
	}
	writeJSON(ctx, fasthttp.StatusOK, s.card(m))
	return nil
}

// tokenize accepts vLLM's {"model", "prompt", "add_special_tokens"} (and
// {"messages", "add_generation_prompt"} for chat) and llama-server's
// {"content", "add_special"}; the defaults follow each server.
func (s *Server) tokenize(ctx *fasthttp.RequestCtx, m *Model, _ *reqState) *apiError {
	var p struct {
		Model               *string         `json:"model"`
		Prompt              *string         `json:"prompt"`
		Content             *string         `json:"content"`
		AddSpecialTokens    *bool           `json:"add_special_tokens"`
		AddSpecial          *bool           `json:"add_special"`
		ReturnTokenStrs     *bool           `json:"return_token_strs"`
		AddGenerationPrompt *bool           `json:"add_generation_prompt"`
		Messages            json.RawMessage `json:"messages"`
	}
	if err := decodeBody(ctx.PostBody(), &p); err != nil {
		return err
	}
	if p.Model != nil && *p.Model != "" && *p.Model != m.Name {
		return errUnknownModel(*p.Model, m.Name)
	}
	var ids []int32
	switch {
	case !isNull(p.Messages):
		msgs, err := parseMessages(p.Messages)
		if err != nil {
			return err
		}
		text, err := renderChat(m, msgs, p.AddGenerationPrompt == nil || *p.AddGenerationPrompt)
		if err != nil {
			return err
		}
		ids = encodeChat(m.Tokenizer, text)
	case p.Prompt != nil:
		ids = m.Tokenizer.Encode(*p.Prompt, p.AddSpecialTokens == nil || *p.AddSpecialTokens, true)
	case p.Content != nil:
		ids = m.Tokenizer.Encode(*p.Content, p.AddSpecial != nil && *p.AddSpecial, true)
	default:
		return errBadRequest("prompt", "give \"prompt\" (or \"content\", or \"messages\") to tokenize")
	}
	if ids == nil {
		ids = []int32{}
	}
	resp := map[string]any{"tokens": ids, "count": len(ids), "max_model_len": m.Backend.MaxModelLen()}
	if p.ReturnTokenStrs != nil && *p.ReturnTokenStrs {
		strs := make([]string, len(ids))
		for i, id := range ids {
			strs[i] = m.Tokenizer.Token(id)
		}
		resp["token_strs"] = strs
	}
	writeJSON(ctx, fasthttp.StatusOK, resp)
	return nil
}

// detokenize accepts {"tokens": [...]} (vLLM and llama-server) and answers
// {"prompt": text} as vLLM does, plus llama-server's "content".
func (s *Server) detokenize(ctx *fasthttp.RequestCtx, m *Model, _ *reqState) *apiError {
	var p struct {
		Model  *string `json:"model"`
		Tokens []int64 `json:"tokens"`
	}
	if err := decodeBody(ctx.PostBody(), &p); err != nil {
		return err
	}
	if p.Model != nil && *p.Model != "" && *p.Model != m.Name {
		return errUnknownModel(*p.Model, m.Name)
	}
	if p.Tokens == nil {
		return errBadRequest("tokens", "\"tokens\" is required")
	}
	vocab := m.Tokenizer.VocabSize()
	ids := make([]int32, len(p.Tokens))
	for i, id := range p.Tokens {
		if id < 0 || int(id) >= vocab {
			return errBadRequest("tokens", "token id %d is outside this model's vocabulary (0..%d)", id, vocab-1)
		}
		ids[i] = int32(id)
	}
	text := m.Tokenizer.Decode(ids)
	writeJSON(ctx, fasthttp.StatusOK, map[string]string{"prompt": text, "content": text})
	return nil
}
