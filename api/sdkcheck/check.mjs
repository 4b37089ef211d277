// Compatibility check: the official OpenAI Node SDK against a live
// `pagoda serve` on the bundled stories260K model. Every call goes through
// the SDK, which must parse the response; the assertions check content
// (greedy text equal across streaming and not, stop strings, seeds,
// logprob shapes, error classes), not just status codes.
//
// Usage: node check.mjs BASE_URL API_KEY   (run.sh does this)
import OpenAI from 'openai';
import assert from 'node:assert/strict';

const [base, apiKey] = process.argv.slice(2);
if (!base || !apiKey) {
  console.error('usage: node check.mjs BASE_URL API_KEY');
  process.exit(2);
}
const MODEL = 'stories260K';
const client = new OpenAI({ baseURL: `${base}/v1`, apiKey, maxRetries: 0, timeout: 60_000 });

// Wait for /health: the server listens before the model is loaded.
for (let i = 0; ; i++) {
  try {
    const r = await fetch(`${base}/health`);
    if (r.status === 200) break;
  } catch {}
  if (i > 600) throw new Error('pagoda never became healthy');
  await new Promise((r) => setTimeout(r, 100));
}

let passed = 0, failed = 0;
async function check(name, fn) {
  try {
    await fn();
    passed++;
    console.log(`ok   ${name}`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${name}: ${e && e.stack ? e.stack : e}`);
  }
}

const PROMPT = 'Once upon a time';
const CHAT = [
  { role: 'system', content: 'You tell short stories.' },
  { role: 'user', content: 'Tell me about a cat.' },
];

let greedy; // the greedy completion, reused below

await check('models.list and models.retrieve', async () => {
  const page = await client.models.list();
  const ids = page.data.map((m) => m.id);
  assert.deepEqual(ids, [MODEL]);
  assert.equal(page.data[0].object, 'model');
  const m = await client.models.retrieve(MODEL);
  assert.equal(m.id, MODEL);
  assert.equal(m.owned_by, 'pagoda');
});

await check('completion (greedy) is whole and deterministic', async () => {
  const req = { model: MODEL, prompt: PROMPT, max_tokens: 24, temperature: 0 };
  const a = await client.completions.create(req);
  const b = await client.completions.create(req);
  assert.match(a.id, /^cmpl-/);
  assert.equal(a.object, 'text_completion');
  assert.equal(a.model, MODEL);
  assert.ok(a.system_fingerprint);
  assert.equal(a.choices.length, 1);
  const c = a.choices[0];
  assert.equal(c.index, 0);
  assert.ok(c.text.length > 10, `text ${JSON.stringify(c.text)}`);
  assert.ok(['length', 'stop'].includes(c.finish_reason));
  assert.equal(a.usage.prompt_tokens, 5); // <s> Once upon a time
  assert.ok(a.usage.completion_tokens > 0 && a.usage.completion_tokens <= 24);
  assert.equal(a.usage.total_tokens, a.usage.prompt_tokens + a.usage.completion_tokens);
  assert.equal(b.choices[0].text, c.text, 'greedy decoding differs between two runs');
  greedy = c.text;
});

await check('streamed completion equals the non-streamed one, with usage', async () => {
  const stream = await client.completions.create({
    model: MODEL, prompt: PROMPT, max_tokens: 24, temperature: 0, stream: true,
    stream_options: { include_usage: true },
  });
  let text = '', finish = null, usage = null, chunks = 0;
  for await (const chunk of stream) {
    chunks++;
    if (chunk.usage) usage = chunk.usage;
    for (const c of chunk.choices) {
      text += c.text;
      if (c.finish_reason) finish = c.finish_reason;
    }
  }
  assert.equal(text, greedy);
  assert.ok(chunks > 2, `only ${chunks} chunks`);
  assert.ok(['length', 'stop'].includes(finish));
  assert.ok(usage && usage.completion_tokens > 0 && usage.prompt_tokens === 5, JSON.stringify(usage));
});

await check('chat completion, streamed and not, agree', async () => {
  const req = { model: MODEL, messages: CHAT, max_tokens: 20, temperature: 0 };
  const r = await client.chat.completions.create(req);
  assert.match(r.id, /^chatcmpl-/);
  assert.equal(r.object, 'chat.completion');
  const m = r.choices[0].message;
  assert.equal(m.role, 'assistant');
  assert.equal(typeof m.content, 'string');
  assert.ok(m.content.length > 0);
  const stream = await client.chat.completions.create({ ...req, stream: true });
  let text = '', first = null, finish = null;
  for await (const chunk of stream) {
    assert.equal(chunk.object, 'chat.completion.chunk');
    for (const c of chunk.choices) {
      if (first === null) first = c.delta;
      text += c.delta.content ?? '';
      if (c.finish_reason) finish = c.finish_reason;
    }
  }
  assert.equal(first.role, 'assistant', 'the first chunk must carry the role');
  assert.equal(text, m.content);
  assert.equal(finish, r.choices[0].finish_reason);
});

await check('content as an array of text parts renders like a string', async () => {
  const a = await client.chat.completions.create({
    model: MODEL, max_tokens: 8, temperature: 0,
    messages: [{ role: 'user', content: [{ type: 'text', text: 'Tell me about a cat.' }] }],
  });
  const b = await client.chat.completions.create({
    model: MODEL, max_tokens: 8, temperature: 0,
    messages: [{ role: 'user', content: 'Tell me about a cat.' }],
  });
  assert.equal(a.usage.prompt_tokens, b.usage.prompt_tokens);
  assert.equal(a.choices[0].message.content, b.choices[0].message.content);
});

await check('n=2 returns two indexed choices (and streams both)', async () => {
  const r = await client.completions.create({ model: MODEL, prompt: PROMPT, max_tokens: 8, n: 2, seed: 7 });
  assert.deepEqual(r.choices.map((c) => c.index).sort(), [0, 1]);
  for (const c of r.choices) assert.ok(c.text.length > 0);
  const stream = await client.chat.completions.create({ model: MODEL, messages: CHAT, max_tokens: 8, n: 2, stream: true });
  const texts = ['', ''], finished = [false, false];
  for await (const chunk of stream) {
    for (const c of chunk.choices) {
      texts[c.index] += c.delta.content ?? '';
      if (c.finish_reason) finished[c.index] = true;
    }
  }
  assert.deepEqual(finished, [true, true]);
  assert.ok(texts[0].length > 0 && texts[1].length > 0);
});

await check('stop strings end the text before the match', async () => {
  // Stop at a word from the middle of the greedy text.
  const words = greedy.trim().split(/\s+/);
  const word = words[Math.floor(words.length / 2)];
  const at = greedy.indexOf(word);
  const r = await client.completions.create({ model: MODEL, prompt: PROMPT, max_tokens: 24, temperature: 0, stop: [word, 'zzzz'] });
  assert.equal(r.choices[0].text, greedy.slice(0, at));
  assert.equal(r.choices[0].finish_reason, 'stop');
  const s = await client.completions.create({ model: MODEL, prompt: PROMPT, max_tokens: 24, temperature: 0, stop: word });
  assert.equal(s.choices[0].text, greedy.slice(0, at));
});

await check('completion logprobs have the completions shape', async () => {
  const r = await client.completions.create({ model: MODEL, prompt: PROMPT, max_tokens: 6, temperature: 0, logprobs: 2 });
  const c = r.choices[0];
  const lp = c.logprobs;
  assert.equal(lp.tokens.length, r.usage.completion_tokens);
  assert.equal(lp.token_logprobs.length, lp.tokens.length);
  assert.equal(lp.top_logprobs.length, lp.tokens.length);
  assert.equal(lp.text_offset.length, lp.tokens.length);
  assert.equal(lp.tokens.join(''), c.text);
  lp.token_logprobs.forEach((v, i) => {
    assert.ok(v <= 0, `logprob ${v}`);
    const top = lp.top_logprobs[i];
    assert.ok(Object.keys(top).length >= 2 && Object.keys(top).length <= 3);
    // Greedy: the chosen token is the most likely one.
    assert.equal(Math.max(...Object.values(top)), v);
  });
  for (let i = 1; i < lp.text_offset.length; i++) assert.ok(lp.text_offset[i] >= lp.text_offset[i - 1]);
});

await check('chat logprobs have the chat shape', async () => {
  const r = await client.chat.completions.create({ model: MODEL, messages: CHAT, max_tokens: 6, temperature: 0, logprobs: true, top_logprobs: 3 });
  const content = r.choices[0].logprobs.content;
  assert.equal(content.length, r.usage.completion_tokens);
  assert.equal(content.map((t) => t.token).join(''), r.choices[0].message.content);
  for (const t of content) {
    assert.ok(t.logprob <= 0);
    assert.deepEqual(t.bytes, [...Buffer.from(t.token, 'utf8')]);
    assert.equal(t.top_logprobs.length, 3);
    assert.equal(t.top_logprobs[0].logprob, t.logprob);
  }
});

await check('a seed makes sampling reproducible', async () => {
  const req = { model: MODEL, prompt: PROMPT, max_tokens: 32, temperature: 1, seed: 1234 };
  const a = await client.completions.create(req);
  const b = await client.completions.create(req);
  assert.equal(a.choices[0].text, b.choices[0].text);
  const c = await client.chat.completions.create({ model: MODEL, messages: CHAT, max_tokens: 32, temperature: 1, seed: 99 });
  const d = await client.chat.completions.create({ model: MODEL, messages: CHAT, max_tokens: 32, temperature: 1, seed: 99 });
  assert.equal(c.choices[0].message.content, d.choices[0].message.content);
});

await check('errors arrive as the SDK error classes with OpenAI fields', async () => {
  await assert.rejects(client.completions.create({ model: 'gpt-4', prompt: 'x' }), (e) => {
    assert.ok(e instanceof OpenAI.BadRequestError, e.constructor.name);
    assert.equal(e.status, 400);
    assert.equal(e.code, 'model_not_found');
    assert.equal(e.param, 'model');
    assert.equal(e.type, 'invalid_request_error');
    assert.match(e.message, /does not exist/);
    return true;
  });
  await assert.rejects(client.chat.completions.create({ model: MODEL, messages: CHAT, max_tokens: 100000 }), (e) => {
    assert.ok(e instanceof OpenAI.BadRequestError);
    assert.equal(e.param, 'max_tokens');
    return true;
  });
  await assert.rejects(client.completions.create({ model: MODEL, prompt: 'x', n: 99 }), (e) => e.status === 400 && e.param === 'n');
  const wrongKey = new OpenAI({ baseURL: `${base}/v1`, apiKey: 'sk-wrong', maxRetries: 0 });
  await assert.rejects(wrongKey.models.list(), (e) => {
    assert.ok(e instanceof OpenAI.AuthenticationError, e.constructor.name);
    assert.equal(e.status, 401);
    return true;
  });
});

console.log(`sdkcheck: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
