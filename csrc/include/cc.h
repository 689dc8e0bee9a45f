/*
 * cc.h: banner texts for console programs such as fs_cli, which include this file
 * inside a function body; it therefore holds nothing but two local definitions.
 */
const char *cc = ".=======================================================.\n"
				 "|              esl event socket console                 |\n"
				 "|    Type /help <enter> to see a list of commands       |\n"
				 ".=======================================================.\n";
const char *cc_s = "esl event socket console (type /help for commands)\n";
