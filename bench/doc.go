// Package bench load-tests any OpenAI-compatible server the way `vllm bench
// serve` does: streaming completion or chat requests arrive as a gamma
// process (Poisson at burstiness 1) with an optional hard concurrency cap,
// and each request's time to first token (TTFT), time per output token
// (TPOT), inter-token latencies (ITL) and end-to-end latency (E2EL) are
// measured on the client. The result uses vLLM's JSON field names so the
// same dashboards and scripts read both tools' results, and `bench plot`
// reads vLLM's result files too.
//
// bench talks to the server over HTTP only; it works unchanged against
// vLLM, llama-server and pagoda. Datasets (random, prefix-repetition,
// ShareGPT, JSONL) are sized with the server's /tokenize endpoint when it
// has one (vLLM's and llama-server's request shapes), through the Tokenizer
// interface, so a local tokenizer can be plugged in instead.
//
// Typical use:
//
//	pagoda bench serve --base-url http://127.0.0.1:8000 --num-prompts 200 \
//	    --request-rate 4 --random-input-len 256 --random-output-len 64 \
//	    --ignore-eos --label pagoda --save-result pagoda-r4.json
//	pagoda bench plot pagoda-r*.json llama-r*.json -o rates.png
//
// Definitions follow vLLM: TTFT is the time to the first chunk with
// content; ITL the gaps between content chunks; E2EL the time to the last
// content chunk; TPOT = (E2EL-TTFT)/(output tokens-1) for outputs of more
// than one token, with the output token count taken from the server's usage
// (or, without usage, the number of content chunks, and the result says
// so). Only completed requests enter the statistics; failed ones keep their
// error text in the result.
package bench
