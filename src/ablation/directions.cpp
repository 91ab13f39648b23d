#include "ablation/directions.h"
