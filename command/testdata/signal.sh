# Ends by a signal (SIGUSR1's default action terminates, without a core dump).
kill -USR1 $$
