// Command minserver is the cold-start yardstick of the benchmarks: the least a Functions custom
// handler can be, a Go net/http server answering readiness on / and every invocation at once.
package main

import (
	"net/http"
	"os"
)

func main() {
	reply := []byte(`{"Outputs":{},"Logs":["ok"],"ReturnValue":null}`)
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(reply)
	})
	if err := http.ListenAndServe("127.0.0.1:"+os.Getenv("FUNCTIONS_CUSTOMHANDLER_PORT"), nil); err != nil {
		os.Stderr.WriteString(err.Error() + "\n")
		os.Exit(1)
	}
}
