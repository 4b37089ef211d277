package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/valyala/fasthttp"
)

// OpenAI error types.
const (
	typeInvalidRequest = "invalid_request_error"
	typeRateLimit      = "rate_limit_error"
	typeServer         = "server_error"
)

// apiError is an error answered in OpenAI's shape:
// {"error": {"message", "type", "param", "code"}}.
type apiError struct {
	Status     int
	Message    string
	Type       string
	Param      string // "" is sent as null
	Code       string // "" is sent as null
	RetryAfter int    // seconds, for 429 and 503 (0: no header)
}

func (e *apiError) Error() string { return e.Message }

func errBadRequest(param, format string, args ...any) *apiError {
	return &apiError{Status: fasthttp.StatusBadRequest, Type: typeInvalidRequest, Param: param, Code: "invalid_value",
		Message: fmt.Sprintf(format, args...)}
}

// errUnknownModel is a request naming a model this server does not serve
// (a 400, like every invalid field).
func errUnknownModel(asked, served string) *apiError {
	return &apiError{Status: fasthttp.StatusBadRequest, Type: typeInvalidRequest, Param: "model", Code: "model_not_found",
		Message: fmt.Sprintf("the model %q does not exist; this server serves %q", asked, served)}
}

func errUnavailable(msg string) *apiError {
	return &apiError{Status: fasthttp.StatusServiceUnavailable, Type: typeServer, Code: "service_unavailable", Message: msg, RetryAfter: 1}
}

func errMethod(ctx *fasthttp.RequestCtx, allow string) *apiError {
	ctx.Response.Header.Set("Allow", allow)
	return &apiError{Status: fasthttp.StatusMethodNotAllowed, Type: typeInvalidRequest, Code: "method_not_allowed",
		Message: fmt.Sprintf("method %s is not allowed here; use %s", ctx.Method(), allow)}
}

type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Message string  `json:"message"`
	Type    string  `json:"type"`
	Param   *string `json:"param"`
	Code    *string `json:"code"`
}

func orNull(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func writeError(ctx *fasthttp.RequestCtx, e *apiError) {
	if e.RetryAfter > 0 {
		ctx.Response.Header.Set("Retry-After", strconv.Itoa(e.RetryAfter))
	}
	writeJSON(ctx, e.Status, errorBody{errorDetail{Message: e.Message, Type: e.Type, Param: orNull(e.Param), Code: orNull(e.Code)}})
}

// marshal encodes v as JSON without HTML escaping: model text is full of
// "<|im_end|>"-like markers that clients should see as written.
func marshal(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		// Only unsupported values (NaN) get here; callers sanitize floats.
		panic(fmt.Sprintf("api: encoding a response: %v", err))
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

func writeJSON(ctx *fasthttp.RequestCtx, status int, v any) {
	ctx.SetStatusCode(status)
	ctx.SetContentType("application/json")
	ctx.SetBody(marshal(v))
}
