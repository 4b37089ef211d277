package tokenizer

import (
	"fmt"

	"github.com/ardanlabs/jinja"

	"github.com/pagoda-llm/pagoda/loader"
)

// ChatMessage is one message of a conversation.
type ChatMessage struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// DefaultChatTemplate is used for models whose GGUF has no
// tokenizer.chat_template (the bundled stories260K, base models): each
// message on its own line as "role: content", then "assistant:" when a
// generation prompt is asked for. The tokenizer adds BOS as for any prompt.
//
//	system: You are terse.
//	user: Hello
//	assistant:
const DefaultChatTemplate = `{% for message in messages %}{{ message.role + ': ' + message.content + '\n' }}{% endfor %}{% if add_generation_prompt %}{{ 'assistant:' }}{% endif %}`

// ChatTemplate renders conversations into prompts with a Hugging Face
// style Jinja chat template (trim_blocks and lstrip_blocks on, bos_token,
// eos_token, add_generation_prompt and raise_exception available), as
// transformers' apply_chat_template does.
type ChatTemplate struct {
	src      string
	tmpl     *jinja.Template
	bos, eos string
	// Vars are extra variables every rendering sees (e.g. date_string for
	// Llama 3.1's template).
	Vars map[string]any
}

// ParseChatTemplate compiles src; bos and eos are the texts of the model's
// BOS and EOS tokens, which templates reach as bos_token and eos_token.
func ParseChatTemplate(src, bos, eos string) (*ChatTemplate, error) {
	t, err := jinja.Compile(src)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: chat template: %w", err)
	}
	return &ChatTemplate{src: src, tmpl: t, bos: bos, eos: eos}, nil
}

// ChatTemplateFromGGUF returns the template of f's tokenizer.chat_template,
// or DefaultChatTemplate when the file has none. override, when not empty,
// replaces the file's template (the --chat-template option).
func ChatTemplateFromGGUF(f *loader.File, t *Tokenizer, override string) (*ChatTemplate, error) {
	src := override
	if src == "" {
		src, _ = getString(f, "tokenizer.chat_template")
	}
	if src == "" {
		src = DefaultChatTemplate
	}
	return ParseChatTemplate(src, t.specialText(t.BOS()), t.specialText(t.EOS()))
}

// specialText is the text of a special token, or "" when there is none.
func (t *Tokenizer) specialText(id int32) string {
	if id < 0 || int(id) >= len(t.tokens) {
		return ""
	}
	return t.tokens[id]
}

// Source is the template's Jinja text.
func (c *ChatTemplate) Source() string { return c.src }

// Apply renders msgs. With addGenerationPrompt the prompt ends where the
// assistant's reply begins. Errors are the template's own (a
// raise_exception such as "roles must alternate") or rendering failures.
func (c *ChatTemplate) Apply(msgs []ChatMessage, addGenerationPrompt bool) (string, error) {
	list := make([]any, len(msgs))
	for i, m := range msgs {
		list[i] = map[string]any{"role": m.Role, "content": m.Content}
	}
	data := map[string]any{
		"messages":              list,
		"add_generation_prompt": addGenerationPrompt,
		"bos_token":             c.bos,
		"eos_token":             c.eos,
	}
	for k, v := range c.Vars {
		data[k] = v
	}
	out, err := c.tmpl.Render(data)
	if err != nil {
		return "", fmt.Errorf("tokenizer: chat template: %w", err)
	}
	return out, nil
}
