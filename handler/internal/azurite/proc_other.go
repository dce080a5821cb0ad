//go:build !linux

package azurite

import "os/exec"

func orphanProof(*exec.Cmd) {}
