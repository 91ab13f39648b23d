#include "eval/prompt_encoding.h"
