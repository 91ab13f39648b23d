#include "eval/scorers.h"
