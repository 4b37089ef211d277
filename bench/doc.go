// Package bench load-tests any OpenAI-compatible server the way `vllm bench
// serve` does: streaming completion or chat requests arrive as a gamma
// process (Poisson at burstiness 1) with an optional hard concurrency cap,
// and each request's time to first token (TTFT), time per output token
// (TPOT), inter-token latencies (ITL) and end-to-end latency (E2EL) are
// measured on the client. The result uses vLLM's JSON field names so the
// same dashboards and scripts read both tools' results.
//
// bench talks to the server over HTTP only; it works unchanged against
// vLLM, llama-server and pagoda. Datasets (random, prefix-repetition,
// ShareGPT, JSONL) are sized with the server's /tokenize endpoint when it
// has one, through the Tokenizer interface, so a local tokenizer can be
// plugged in instead.
package bench
