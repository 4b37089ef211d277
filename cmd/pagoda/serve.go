package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/pagoda-llm/pagoda/api"
	"github.com/pagoda-llm/pagoda/engine"
	"github.com/pagoda-llm/pagoda/model/bundled"
	"github.com/pagoda-llm/pagoda/tokenizer"
)

// serveOptions are pagoda serve's flags.
type serveOptions struct {
	modelPath      string
	host           string
	port           int
	name           string
	apiKey         string
	apiKeyFile     string
	maxBody        int64
	requestTimeout time.Duration
	drainTimeout   time.Duration
	chatTemplate   string
	engine         engine.Config
}

func runServe(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("serve", stderr)
	o := serveOptions{maxBody: api.DefaultMaxBodySize}
	fs.StringVar(&o.modelPath, "m", "", "GGUF model file (default: the bundled stories260K)")
	fs.StringVar(&o.host, "host", "127.0.0.1", "address to listen on (0.0.0.0: all interfaces)")
	fs.IntVar(&o.port, "port", 8000, "port to listen on (0: any free port)")
	fs.StringVar(&o.name, "served-model-name", "", "model id clients send as \"model\" (default: the file's general.name, else its file name; stories260K for the bundled model)")
	fs.StringVar(&o.apiKey, "api-key", "", "require \"Authorization: Bearer KEY\" on /v1/*, /tokenize and /detokenize")
	fs.StringVar(&o.apiKeyFile, "api-key-file", "", "read the API key from this file (keeps it out of the process list)")
	fs.Func("max-body", "largest request body, e.g. 8MiB (default 8MiB)", func(s string) error {
		n, err := engine.ParseBytes(s)
		o.maxBody = n
		return err
	})
	fs.DurationVar(&o.requestTimeout, "request-timeout", 0, "abort a generation running longer than this, e.g. 5m (0: never)")
	fs.DurationVar(&o.drainTimeout, "drain-timeout", 30*time.Second, "on SIGTERM, how long in-flight requests may run before they are aborted")
	fs.StringVar(&o.chatTemplate, "chat-template", "", "Jinja chat template file replacing the model's tokenizer.chat_template")
	o.engine.AddFlags(fs)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return 2
	}
	if len(pos) > 0 {
		fmt.Fprintf(stderr, "pagoda serve: unexpected argument %q (the model is given with -m)\n", pos[0])
		return 2
	}
	if o.apiKeyFile != "" {
		if o.apiKey != "" {
			fmt.Fprintln(stderr, "pagoda serve: give --api-key or --api-key-file, not both")
			return 2
		}
		b, err := os.ReadFile(o.apiKeyFile)
		if err != nil {
			fmt.Fprintln(stderr, "pagoda serve:", err)
			return 2
		}
		if o.apiKey = strings.TrimSpace(string(b)); o.apiKey == "" {
			fmt.Fprintf(stderr, "pagoda serve: %s is empty\n", o.apiKeyFile)
			return 2
		}
	}
	if o.maxBody <= 0 || o.maxBody > 1<<31-1 {
		fmt.Fprintln(stderr, "pagoda serve: --max-body must be between 1 byte and 2GiB")
		return 2
	}
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)
	log := slog.New(slog.NewTextHandler(stderr, nil))
	return serve(o, sigs, log, nil)
}

// serve runs the server until a signal on sigs has it drain and stop. It
// listens before loading the model, so /health answers 503 while loading.
// ready, when not nil, receives the address listened on (for tests).
func serve(o serveOptions, sigs <-chan os.Signal, log *slog.Logger, ready func(addr string)) int {
	ln, err := net.Listen("tcp", net.JoinHostPort(o.host, strconv.Itoa(o.port)))
	if err != nil {
		log.Error("pagoda serve: cannot listen", "err", err)
		return 1
	}
	srv := api.New(api.Options{APIKey: o.apiKey, MaxBodySize: int(o.maxBody), RequestTimeout: o.requestTimeout, Version: version, Logger: log})
	hs := srv.FastHTTP()
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	addr := "http://" + ln.Addr().String()
	log.Info("pagoda serve: listening; loading the model", "addr", addr)
	if ready != nil {
		ready(ln.Addr().String())
	}
	shutdownHTTP := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		hs.ShutdownWithContext(ctx)
	}

	type loadedEngine struct {
		lm  *loaded
		eng *engine.Engine
		err error
	}
	loadedCh := make(chan loadedEngine, 1)
	go func() {
		lm, eng, err := startEngine(o)
		loadedCh <- loadedEngine{lm, eng, err}
	}()
	var le loadedEngine
	select {
	case le = <-loadedCh:
	case s := <-sigs:
		// Nothing was accepted yet: stopping now loses no request.
		log.Info("pagoda serve: stopped while loading", "signal", s.String())
		shutdownHTTP()
		return 0
	case err := <-served:
		log.Error("pagoda serve: the HTTP server stopped", "err", err)
		return 1
	}
	if le.err != nil {
		log.Error("pagoda serve: cannot start", "err", le.err)
		shutdownHTTP()
		return 1
	}
	defer le.lm.file.Close()
	name := servedName(o, le.lm)
	tmpl, err := chatTemplate(o, le.lm)
	if err != nil {
		log.Error("pagoda serve: chat template", "err", err)
		le.eng.Close()
		shutdownHTTP()
		return 1
	}
	srv.SetModel(&api.Model{Name: name, Backend: le.eng, Tokenizer: le.lm.tok, Template: tmpl})
	log.Info("pagoda serve: ready", "model", name, "max_model_len", le.eng.MaxModelLen(), "addr", addr)

	var first os.Signal
	select {
	case first = <-sigs:
	case err := <-served:
		log.Error("pagoda serve: the HTTP server stopped", "err", err)
		le.eng.Close()
		return 1
	}
	// Drain: /health turns 503, new work gets 503, in-flight requests run
	// up to --drain-timeout. A second SIGINT leaves at once.
	log.Info("pagoda serve: draining", "signal", first.String(), "in_flight", srv.InFlight(), "drain_timeout", o.drainTimeout)
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		ctx, cancel := context.WithTimeout(context.Background(), o.drainTimeout)
		defer cancel()
		if err := srv.Drain(ctx); err != nil {
			log.Warn("pagoda serve: drain timeout; aborting what is left", "err", err)
		}
		le.eng.Close()
		// Aborted streams still send their last events and [DONE].
		ctx2, cancel2 := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel2()
		srv.Drain(ctx2)
		shutdownHTTP()
	}()
	for {
		select {
		case <-drained:
			log.Info("pagoda serve: stopped")
			return 0
		case s := <-sigs:
			if s == syscall.SIGINT {
				log.Warn("pagoda serve: second interrupt; exiting now")
				return 130
			}
			log.Info("pagoda serve: already draining", "signal", s.String())
		}
	}
}

// startEngine loads the model and starts the engine.
func startEngine(o serveOptions) (*loaded, *engine.Engine, error) {
	lm, err := loadModel(o.modelPath)
	if err != nil {
		return nil, nil, err
	}
	eng, err := engine.New(lm.model, lm.tok, o.engine)
	if err != nil {
		lm.file.Close()
		return nil, nil, fmt.Errorf("%s: %w", lm.name, err)
	}
	return lm, eng, nil
}

// servedName is --served-model-name, else the file's general.name, else
// its file name without extension.
func servedName(o serveOptions, lm *loaded) string {
	switch {
	case o.name != "":
		return o.name
	case o.modelPath == "":
		return bundled.Name
	case lm.model.Config.Name != "":
		return lm.model.Config.Name
	}
	return strings.TrimSuffix(filepath.Base(o.modelPath), filepath.Ext(o.modelPath))
}

func chatTemplate(o serveOptions, lm *loaded) (*tokenizer.ChatTemplate, error) {
	override := ""
	if o.chatTemplate != "" {
		b, err := os.ReadFile(o.chatTemplate)
		if err != nil {
			return nil, err
		}
		if override = string(b); strings.TrimSpace(override) == "" {
			return nil, errors.New(o.chatTemplate + " is empty")
		}
	}
	return tokenizer.ChatTemplateFromGGUF(lm.file, lm.tok, override)
}
