/*
 * The parts of panacea(1) beyond starting and stopping.
 */
#ifndef PANACEA_CLI_PANACEA_H
#define PANACEA_CLI_PANACEA_H

/* panacea spf check DOMAIN IP [SENDER [HELO]]: argv starts at "check";
 * returns the exit status. */
int panacea_spf(int argc, char **argv);
/* panacea trace [-H HOSTNAME] [FILE]: argv starts after "trace". */
int panacea_trace(int argc, char **argv);

/* panacea dkim genkey ... | verify: argv starts at "genkey" or
 * "verify" (cli/panacea/dkim.c); returns the exit status. */
int panacea_dkim(int argc, char **argv);

#endif
