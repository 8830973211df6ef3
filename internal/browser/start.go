package browser

import "os/exec"

// start starts cmd and reaps it when it ends, without waiting for it: a
// launcher may stay as long as the browser it started.
func start(cmd *exec.Cmd) error {
	if err := cmd.Start(); err != nil {
		return err
	}
	go cmd.Wait()
	return nil
}
