// Package bundled carries the default model compiled into the binary, so
// `pagoda generate` and `pagoda serve` work on a fresh machine with no
// downloads.
package bundled

import _ "embed"

// Stories260K is Karpathy's stories260K TinyStories llama (F32, 1.2 MB) as
// converted to GGUF by llama.cpp; see SOURCES.md beside this file.
//
//go:embed stories260K.gguf
var Stories260K []byte

// Name is the model name reported for the bundled model.
const Name = "stories260K"
