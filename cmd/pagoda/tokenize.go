package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/pagoda-llm/pagoda/tokenizer"
)

// openTokenizer loads only the tokenizer of path (or of the bundled model);
// vocab-only files work too.
func openTokenizer(path string) (*tokenizer.Tokenizer, func() error, error) {
	f, name, err := openModel(path)
	if err != nil {
		return nil, nil, err
	}
	tok, err := tokenizer.FromGGUF(f)
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("%s: %w", name, err)
	}
	return tok, f.Close, nil
}

func runTokenize(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("tokenize", stderr)
	modelPath := fs.String("m", "", "GGUF file with a tokenizer (default: the bundled model)")
	noBOS := fs.Bool("no-bos", false, "do not add the BOS token even if the model asks for it")
	noSpecial := fs.Bool("no-parse-special", false, "treat special-token text such as <s> as plain text")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return 2
	}
	if len(pos) != 1 {
		fmt.Fprintln(stderr, "usage: pagoda tokenize [-m FILE] [--no-bos] [--no-parse-special] TEXT")
		return 2
	}
	tok, closeFn, err := openTokenizer(*modelPath)
	if err != nil {
		fmt.Fprintln(stderr, "pagoda tokenize:", err)
		return 1
	}
	defer closeFn()
	ids := tok.Encode(pos[0], !*noBOS, !*noSpecial)
	b, _ := json.Marshal(nonNil(ids))
	fmt.Fprintln(stdout, string(b))
	return 0
}

func runDetokenize(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("detokenize", stderr)
	modelPath := fs.String("m", "", "GGUF file with a tokenizer (default: the bundled model)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return 2
	}
	// Accept "1 2 3", "1,2,3" and a JSON array alike.
	var ids []int32
	for _, a := range pos {
		for _, s := range strings.FieldsFunc(a, func(r rune) bool { return r == ',' || r == ' ' || r == '[' || r == ']' }) {
			v, err := strconv.ParseInt(s, 10, 32)
			if err != nil {
				fmt.Fprintf(stderr, "pagoda detokenize: %q is not a token id\n", s)
				return 2
			}
			ids = append(ids, int32(v))
		}
	}
	tok, closeFn, err := openTokenizer(*modelPath)
	if err != nil {
		fmt.Fprintln(stderr, "pagoda detokenize:", err)
		return 1
	}
	defer closeFn()
	for _, id := range ids {
		if id < 0 || int(id) >= tok.VocabSize() {
			fmt.Fprintf(stderr, "pagoda detokenize: token id %d is outside the vocabulary [0, %d)\n", id, tok.VocabSize())
			return 2
		}
	}
	fmt.Fprintln(stdout, tok.Decode(ids))
	return 0
}
