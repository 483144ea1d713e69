/* cli_commands.h: the table of navette's commands (name, handler, arguments,
 * accepted options, usage and help), read by cli.c only. */
#ifndef NV_CLI_COMMANDS_H
#define NV_CLI_COMMANDS_H

struct nv_cli;

typedef struct nv_command {
	const char *name;
	int (*run)(struct nv_cli *c);
	int min_args, max_args;  /* max -1: any */
	const char *options;     /* long options it accepts, space-separated */
	const char *usage;
	const char *help;
} nv_command;

/* Each command's entry point (src/cli/cmd_*.c). */
int nv_cmd_ls(struct nv_cli *c);
int nv_cmd_copy(struct nv_cli *c);  /* copy, sync and check */
int nv_cmd_keygen(struct nv_cli *c);
int nv_cmd_init(struct nv_cli *c);
int nv_cmd_push(struct nv_cli *c);
int nv_cmd_pull(struct nv_cli *c);
int nv_cmd_verify(struct nv_cli *c);
int nv_cmd_drill(struct nv_cli *c);
int nv_cmd_log(struct nv_cli *c);
int nv_cmd_replicate(struct nv_cli *c);
int nv_cmd_unlock(struct nv_cli *c);
int nv_cmd_drillkey(struct nv_cli *c);
int nv_cmd_publish(struct nv_cli *c);
int nv_cmd_merge_reports(struct nv_cli *c); /* check --merge-reports */

/* Every command, ended by an entry whose name is NULL. */
extern const nv_command nv_commands[];
/* check --merge-reports OUT REPORT...: check's entry once that option is
 * given (its arguments and options are not a check's). */
extern const nv_command nv_check_merge;

#endif
