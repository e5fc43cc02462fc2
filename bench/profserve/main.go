// Command profserve is `eddy serve` with net/http/pprof mounted under
// /debug/pprof/, so the benchmark harness can profile the server over a
// measured window (go run ./bench -cpuprofile DIR) without a profiling hook
// in eddy itself. It takes the same serve flags as cmd/eddy:
//
//	profserve serve --addr 127.0.0.1:8000 --data ./eddy-data [--no-sync] [--contention]
//
// Keep it in step with cmd/eddy's serve: it must build the server the same way.
package main

import (
	"context"
	"flag"
	"log"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"runtime"
	"syscall"
	"time"

	"github.com/eddydb/eddy/internal/server"
)

func main() {
	if len(os.Args) < 2 || os.Args[1] != "serve" {
		log.Fatal("usage: profserve serve [--addr A] [--data D] [--in-memory]")
	}
	fs := flag.NewFlagSet("serve", flag.ExitOnError)
	var opts server.Options
	fs.StringVar(&opts.Addr, "addr", "127.0.0.1:8000", "listen address")
	fs.StringVar(&opts.DataDir, "data", "./eddy-data", "data directory")
	fs.BoolVar(&opts.InMemory, "in-memory", false, "keep all data in memory")
	fs.BoolVar(&opts.Init, "init", false, "create a new database in a missing or empty --data directory (as eddy serve --init)")
	fs.BoolVar(&opts.NoSync, "no-sync", false, "do not fsync the WAL (to measure what durability costs; not a cmd/eddy flag)")
	contention := fs.Bool("contention", false, "record block and mutex profiles (/debug/pprof/block, /debug/pprof/mutex); costs some CPU")
	_ = fs.Parse(os.Args[2:])
	if *contention {
		runtime.SetBlockProfileRate(int(10 * time.Microsecond))
		runtime.SetMutexProfileFraction(10)
	}

	server.TuneRuntime()
	srv, err := server.New(opts)
	if err != nil {
		log.Fatalf("profserve: %v", err)
	}
	srv.Handle("/debug/pprof/", http.HandlerFunc(pprof.Index))
	srv.Handle("/debug/pprof/profile", http.HandlerFunc(pprof.Profile))
	if err := srv.Start(); err != nil {
		log.Fatalf("profserve: %v", err)
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	<-sig
	if err := srv.Shutdown(context.Background()); err != nil {
		log.Printf("profserve: shutdown: %v", err)
		os.Exit(1)
	}
}
