"""``tradein completion``: bash, zsh and fish completion scripts made from the parser."""

from __future__ import annotations

import argparse
import shlex
import sys
from typing import TYPE_CHECKING, Any

from tradein_sdk._cli._common import _command

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence


def _completion_command(args: argparse.Namespace) -> int:
    from tradein_sdk._cli import build_parser  # noqa: PLC0415 - the package imports this module first

    nodes = list(_completion_nodes(build_parser()))
    script = {"bash": _bash_completion, "zsh": _zsh_completion, "fish": _fish_completion}[args.shell](nodes)
    sys.stdout.write(script)
    return 0


class _Option:
    """An option as completion sees it: its flags, its help, and the value it takes."""

    def __init__(self, action: argparse.Action) -> None:
        self.flags = list(action.option_strings)
        self.help = " ".join((action.help or "").replace("%%", "%").split())
        self.value = None if action.nargs == 0 else _value_kind(action)


class _Node:
    """A command or action: its path (``quote create``), sub-commands, options, positional values."""

    def __init__(self, path: str, parser: argparse.ArgumentParser) -> None:
        self.path = path
        self.commands: list[tuple[str, str]] = []
        self.children: list[tuple[str, argparse.ArgumentParser]] = []
        self.options: list[_Option] = []
        self.positional = ""
        for action in parser._actions:  # noqa: SLF001 - argparse keeps its tree there
            if isinstance(action, argparse._SubParsersAction):  # noqa: SLF001
                visible = {choice.dest: choice.help or "" for choice in action._choices_actions}  # noqa: SLF001
                self.commands = list(visible.items())
                self.children = [(name, action.choices[name]) for name in visible]
            elif action.option_strings and action.help != argparse.SUPPRESS:
                self.options.append(_Option(action))
            elif not action.option_strings and not self.positional:
                self.positional = _value_kind(action) if action.choices or _is_path(action) else ""


def _is_path(action: argparse.Action) -> bool:
    name = str(action.metavar or action.dest).upper()
    return "FILE" in name or "DIR" in name or name in {"OUT", "OUTPUT"}


def _value_kind(action: argparse.Action) -> str:
    """``@file``, ``@dir``, the choices separated by spaces, or ``@any`` (no completion)."""
    if action.choices:
        return " ".join(str(choice) for choice in action.choices)
    if _is_path(action):
        return "@dir" if "DIR" in str(action.metavar or action.dest).upper() else "@file"
    return "@any"


def _completion_nodes(parser: argparse.ArgumentParser, path: str = "") -> Iterator[_Node]:
    node = _Node(path, parser)
    yield node
    for name, child in node.children:
        yield from _completion_nodes(child, f"{path} {name}".strip())


def _shell_lists(nodes: Sequence[_Node], *, zsh: bool) -> str:
    """The lookups of the bash and zsh scripts, one ``case`` over the command paths each.

    ``_tradein_commands PATH``: the sub-commands (zsh: ``name:help``); ``_tradein_options PATH``: the options;
    ``_tradein_value PATH OPTION``: what the option takes (``@file``, ``@dir``, ``@any`` or the choices;
    status 1 for a flag); ``_tradein_positional PATH``: what the positional arguments take.
    """
    commands: list[tuple[str, list[str]]] = []
    options: list[tuple[str, list[str]]] = []
    values: list[tuple[str, list[str]]] = []
    positional: list[tuple[str, list[str]]] = []
    for node in nodes:
        if node.commands:
            names = [f"{name}:{text}" if zsh else name for name, text in node.commands]
            commands.append((node.path, names))
        options.append((node.path, [flag for option in node.options for flag in option.flags]))
        values += [
            (f"{node.path} {flag}".strip(), option.value.split())
            for option in node.options
            if option.value is not None
            for flag in option.flags
        ]
        if node.positional:
            positional.append((node.path, node.positional.split()))
    empty = "reply=()" if zsh else ":"
    return "".join(
        _shell_case(name, subject, arms, zsh=zsh, otherwise=otherwise)
        for name, subject, arms, otherwise in (
            ("_tradein_commands", "$1", commands, empty),
            ("_tradein_options", "$1", options, empty),
            ("_tradein_value", "$1 $2", values, "return 1"),
            ("_tradein_positional", "$1", positional, empty),
        )
    )


def _shell_case(
    name: str, subject: str, arms: Sequence[tuple[str, list[str]]], *, zsh: bool, otherwise: str
) -> str:
    """A shell function answering with words per pattern: bash echoes them, zsh sets ``reply``."""
    paren = "(" if zsh else ""
    lines = [f"{name}() {{", f'    case "{subject}" in']
    for pattern, words in arms:
        body = (
            f"reply=({' '.join(shlex.quote(word) for word in words)})"
            if zsh
            else f"echo {shlex.quote(' '.join(words))}"
        )
        lines.append(f"        {paren}{shlex.quote(pattern)}) {body} ;;")
    lines += [f"        {paren}*) {otherwise} ;;", "    esac", "}", ""]
    return "\n".join(lines)


def _bash_completion(nodes: Sequence[_Node]) -> str:
    return (
        "# bash completion for tradein, made by `tradein completion bash`.\n"
        '# Load it with: eval "$(tradein completion bash)" (e.g. in ~/.bashrc), or save it as\n'
        "# ~/.local/share/bash-completion/completions/tradein.\n"
        + _shell_lists(nodes, zsh=False)
        + """_tradein() {
    local cur="${COMP_WORDS[COMP_CWORD]}" prev="${COMP_WORDS[COMP_CWORD-1]}" cmdpath="" word values i
    for ((i = 1; i < COMP_CWORD; i++)); do
        word="${COMP_WORDS[i]}"
        if [[ "$word" == -* ]]; then
            if _tradein_value "$cmdpath" "$word" >/dev/null; then ((i++)); fi
            continue
        fi
        if [[ " $(_tradein_commands "$cmdpath") " == *" $word "* ]]; then
            cmdpath="${cmdpath:+$cmdpath }$word"
        fi
    done
    COMPREPLY=()
    if [[ "$prev" == -* ]] && values="$(_tradein_value "$cmdpath" "$prev")"; then
        case "$values" in
            @file | @any) ;;
            @dir) COMPREPLY=($(compgen -d -- "$cur")) ;;
            *) COMPREPLY=($(compgen -W "$values" -- "$cur")) ;;
        esac
        return 0
    fi
    if [[ "$cur" == -* ]]; then
        COMPREPLY=($(compgen -W "$(_tradein_options "$cmdpath")" -- "$cur"))
        return 0
    fi
    values="$(_tradein_commands "$cmdpath")"
    [[ -n "$values" ]] || values="$(_tradein_positional "$cmdpath")"
    case "$values" in
        @file | @dir | @any | "") ;;
        *) COMPREPLY=($(compgen -W "$values" -- "$cur")) ;;
    esac
    return 0
}
complete -o default -F _tradein tradein
"""
    )


def _zsh_completion(nodes: Sequence[_Node]) -> str:
    return (
        "#compdef tradein\n"
        "# zsh completion for tradein, made by `tradein completion zsh`.\n"
        '# Load it with: eval "$(tradein completion zsh)" after compinit (e.g. in ~/.zshrc), or save it as\n'
        "# _tradein in a directory on $fpath.\n"
        + _shell_lists(nodes, zsh=True)
        + """_tradein_complete_value() {
    case "${reply[1]}" in
        (@file) _files ;;
        (@dir) _files -/ ;;
        (@any|'') ;;
        (*) compadd -- $reply ;;
    esac
}
_tradein() {
    local cmdpath='' word prev cur i
    local -a reply names
    for (( i = 2; i < CURRENT; i++ )); do
        word=${words[i]}
        if [[ $word == -* ]]; then
            _tradein_value "$cmdpath" "$word" && (( i++ ))
            continue
        fi
        _tradein_commands "$cmdpath"
        names=(${reply%%:*})
        (( ${names[(Ie)$word]} )) && cmdpath=${cmdpath:+$cmdpath }$word
    done
    prev=${words[CURRENT-1]}
    cur=${words[CURRENT]}
    if [[ $prev == -* ]] && _tradein_value "$cmdpath" "$prev"; then
        _tradein_complete_value
        return
    fi
    if [[ $cur == -* ]]; then
        _tradein_options "$cmdpath"
        compadd -- $reply
        return
    fi
    _tradein_commands "$cmdpath"
    if (( ${#reply} )); then
        _describe -t commands 'tradein command' reply
        return
    fi
    _tradein_positional "$cmdpath"
    _tradein_complete_value
}
if [[ $zsh_eval_context[-1] == loadautofunc ]]; then
    _tradein "$@"
else
    compdef _tradein tradein
fi
"""
    )


def _fish_quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


_FISH_FUNCTIONS = """function __tradein_path
    set -l cmdpath
    set -l skip 0
    for word in (commandline -opc)[2..-1]
        if test $skip = 1
            set skip 0
            continue
        end
        if string match -q -- '-*' $word
            __tradein_takes_value (string join ' ' $cmdpath) $word; and set skip 1
            continue
        end
        contains -- $word (__tradein_commands (string join ' ' $cmdpath)); and set -a cmdpath $word
    end
    string join ' ' $cmdpath
end
function __tradein_at
    set -l here (__tradein_path)
    test "$here" = "$argv[1]"
end
complete -c tradein -f
"""


def _fish_value(value: str | None) -> str:
    """The ``complete`` switches for what an option takes."""
    if value is None:
        return ""
    return {
        "@file": " -r -F",
        "@dir": " -x -a '(__fish_complete_directories)'",
        "@any": " -x",
    }.get(value, f" -x -a {_fish_quote(value)}")


def _fish_completion(nodes: Sequence[_Node]) -> str:
    lines = [
        "# fish completion for tradein, made by `tradein completion fish`.",
        "# Load it with: tradein completion fish | source,",
        "# or save it as ~/.config/fish/completions/tradein.fish.",
        "function __tradein_commands",
        '    switch "$argv[1]"',
    ]
    for node in nodes:
        if node.commands:
            names = " ".join(name for name, _ in node.commands)
            lines += [f"        case {_fish_quote(node.path)}", f"            printf '%s\\n' {names}"]
    takes_value = [
        _fish_quote(f"{node.path} {flag}".strip())
        for node in nodes
        for option in node.options
        if option.value is not None
        for flag in option.flags
    ]
    lines += ["    end", "end", "function __tradein_takes_value", '    switch "$argv[1] $argv[2]"']
    lines += [
        f"        case {' '.join(takes_value)}",
        "            return 0",
        "    end",
        "    return 1",
        "end",
    ]
    lines.append(_FISH_FUNCTIONS.rstrip("\n"))
    for node in nodes:
        at = _fish_quote(f'__tradein_at "{node.path}"')
        lines += [
            f"complete -c tradein -n {at} -a {name} -d {_fish_quote(text)}" for name, text in node.commands
        ]
        for option in node.options:
            flags = " ".join(
                f"-l {flag[2:]}" if flag.startswith("--") else f"-s {flag[1:]}" for flag in option.flags
            )
            lines.append(
                f"complete -c tradein -n {at} {flags}{_fish_value(option.value)} "
                f"-d {_fish_quote(option.help)}"
            )
        if node.positional:
            lines.append(f"complete -c tradein -n {at}{_fish_value(node.positional).replace(' -r', '')}")
    return "\n".join(lines) + "\n"


def _add_completion_command(commands: Any) -> None:  # noqa: ANN401 - argparse's subparsers action
    completion = _command(
        commands,
        "completion",
        "print a shell completion script (bash, zsh, fish)",
        handler=_completion_command,
        description=(
            'Print a completion script for the shell: eval "$(tradein completion bash)" in ~/.bashrc, '
            'eval "$(tradein completion zsh)" in ~/.zshrc (after compinit), or '
            "tradein completion fish > ~/.config/fish/completions/tradein.fish."
        ),
    )
    completion.add_argument(
        "shell", metavar="SHELL", choices=("bash", "zsh", "fish"), help="bash, zsh or fish"
    )
