#include "io/results_file.h"
