#include "io/journal.h"
