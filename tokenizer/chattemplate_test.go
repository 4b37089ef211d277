package tokenizer

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pagoda-llm/pagoda/loader"
	"github.com/pagoda-llm/pagoda/model/bundled"
)

var (
	withSystem = []ChatMessage{
		{"system", "You are a helpful assistant"},
		{"user", "Hello"},
		{"assistant", "Hi there"},
		{"user", "Who are you"},
	}
	withoutSystem = withSystem[1:]
)

// TestChatTemplateGolden renders the usual templates (testdata/chat/*.jinja,
// see SOURCES.md there) and compares with renderings derived by hand from
// each template (testdata/chat/*.golden).
func TestChatTemplateGolden(t *testing.T) {
	for _, c := range []struct {
		name, bos, eos string
		msgs           []ChatMessage
	}{
		{"llama2", "<s>", "</s>", withSystem},
		{"llama3", "<|begin_of_text|>", "<|end_of_text|>", withSystem},
		{"llama3.1", "<|begin_of_text|>", "<|eot_id|>", withSystem},
		{"chatml", "", "<|im_end|>", withSystem},
		{"qwen2.5", "", "<|im_end|>", withSystem},
		{"mistral", "<s>", "</s>", withSystem},
		{"mistral-nemo", "<s>", "</s>", withSystem},
		{"phi3.5", "<s>", "<|endoftext|>", withSystem},
		{"gemma2", "<bos>", "<eos>", withoutSystem},
		{"deepseek-v2", "<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>", withSystem},
		{"deepseek-coder", "<｜begin▁of▁sentence｜>", "<|EOT|>", withSystem},
		{"default", "<s>", "</s>", withSystem},
	} {
		t.Run(c.name, func(t *testing.T) {
			src := DefaultChatTemplate
			if c.name != "default" {
				b, err := os.ReadFile(filepath.Join("testdata", "chat", c.name+".jinja"))
				if err != nil {
					t.Fatal(err)
				}
				src = string(b)
			}
			want, err := os.ReadFile(filepath.Join("testdata", "chat", c.name+".golden"))
			if err != nil {
				t.Fatal(err)
			}
			tmpl, err := ParseChatTemplate(src, c.bos, c.eos)
			if err != nil {
				t.Fatal(err)
			}
			got, err := tmpl.Apply(c.msgs, true)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Errorf("rendered\n%q\nwant\n%q", got, want)
			}
		})
	}
}

func TestChatTemplateErrors(t *testing.T) {
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join("testdata", "chat", name+".jinja"))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	gemma, err := ParseChatTemplate(read("gemma2"), "<bos>", "<eos>")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := gemma.Apply(withSystem, true); err == nil || !strings.Contains(err.Error(), "System role not supported") {
		t.Errorf("gemma with a system message: %v", err)
	}
	llama2, err := ParseChatTemplate(read("llama2"), "<s>", "</s>")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := llama2.Apply([]ChatMessage{{"user", "a"}, {"user", "b"}}, true); err == nil || !strings.Contains(err.Error(), "alternate") {
		t.Errorf("llama2 with two user messages in a row: %v", err)
	}
	if _, err := ParseChatTemplate("{% for x in %}", "", ""); err == nil {
		t.Error("a broken template compiled")
	}
}

func TestChatTemplateGenerationPrompt(t *testing.T) {
	tmpl, err := ParseChatTemplate(DefaultChatTemplate, "<s>", "</s>")
	if err != nil {
		t.Fatal(err)
	}
	got, err := tmpl.Apply([]ChatMessage{{"user", "Hi"}}, false)
	if err != nil || got != "user: Hi\n" {
		t.Errorf("without generation prompt: %q %v", got, err)
	}
}

func TestChatTemplateFromGGUF(t *testing.T) {
	f, err := loader.Parse(bundled.Stories260K)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := FromGGUF(f)
	if err != nil {
		t.Fatal(err)
	}
	// stories260K has no tokenizer.chat_template: the default applies.
	tmpl, err := ChatTemplateFromGGUF(f, tok, "")
	if err != nil {
		t.Fatal(err)
	}
	if tmpl.Source() != DefaultChatTemplate {
		t.Errorf("bundled model template %q", tmpl.Source())
	}
	// An override replaces it and sees the model's BOS text.
	tmpl, err = ChatTemplateFromGGUF(f, tok, "{{ bos_token }}|{{ eos_token }}|{{ messages[0].content }}")
	if err != nil {
		t.Fatal(err)
	}
	got, err := tmpl.Apply([]ChatMessage{{"user", "x"}}, true)
	if err != nil || got != "<s>|</s>|x" {
		t.Errorf("override rendered %q %v", got, err)
	}
}
