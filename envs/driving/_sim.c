/*
 * envs.driving._sim: the traffic step of envs.driving.traffic in C, on the [B, V] numpy arrays
 * of a Vehicles value, in place; around it, the whole policy step of
 * envs.driving.simulation.DrivingSim under discrete meta-actions (policy_step), the gaps to the
 * leaders a calm start needs (leader_gaps) and the kinematics observation (kinematics).
 *
 * One call of run runs S simulation steps of every scene. Each step of a scene is what
 * envs.driving.traffic.step_reference does with numpy arrays, in the same order and with the
 * same formulas: neighbour tables from the vehicles sorted by x (stable), IDM accelerations
 * in the own and target lanes (and the stop before a ramp's end), MOBIL lane-change decisions
 * when the scene's direction is -1 or +1, lane keeping, the ego's controls, crashed vehicles
 * stopping, the kinematic bicycle model, and the separating-axis collision test.
 *
 * The model constants are not written here: the caller passes them as one float64 array in
 * the order of enum Param (envs.driving.traffic builds it from the Python modules).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum Param {
    P_COMFORT_ACCELERATION, /* IDM a_max [m/s^2] */
    P_MAX_ACCELERATION,     /* IDM upper clip [m/s^2] */
    P_MAX_BRAKING,          /* IDM lower clip [m/s^2] */
    P_JAM_GAP,              /* s0 [m] */
    P_MIN_GAP,              /* smallest gap used [m] */
    P_CLOSING_FACTOR,       /* 1 / (2 sqrt(a_max b)) [s^2/m] */
    P_MAX_BRAKING_IMPOSED,  /* MOBIL safety [m/s^2] */
    P_MIN_ACCELERATION_GAIN, /* MOBIL incentive threshold [m/s^2] */
    P_SETTLED_OFFSET,       /* [m] */
    P_RAMP_STOP_MARGIN,     /* [m] */
    P_TAU_ACCELERATION,     /* speed controller [s] */
    P_TAU_HEADING,          /* [s] */
    P_TAU_LATERAL,          /* [s] */
    P_MAX_HEADING_OFFSET,   /* [rad] */
    P_MAX_STEERING,         /* [rad] */
    P_MAX_SPEED,            /* [m/s] */
    P_COUNT
};

enum { EGO_KIND = 0 };
enum AccelerationMode { ACCEL_TRAFFIC = 0, ACCEL_TRACK_SPEED = 1, ACCEL_GIVEN = 2 };

typedef struct {
    int lanes;       /* main lanes */
    int total_lanes; /* with the ramp lane */
    int has_ramp;
    double lane_width, inverse_width, merge_start, ramp_end;
    double circumference; /* a ring's length, 0 for a straight road */
} Road;

typedef struct { /* one scene's arrays (pointers at its row) and the model constants */
    const double *P; /* [P_COUNT], see enum Param */
    double *x, *y, *heading, *speed;
    double *target_speed;
    const double *length, *width, *delta, *time_headway, *politeness;
    const int8_t *kind;
    int64_t *target;
    uint8_t *crashed;
} Scene;

typedef struct { /* scratch space for one scene of V vehicles */
    int V, L;
    double *place;             /* where each vehicle is along the road (x, or x mod ring) */
    int *order, *rank;         /* sorted position -> vehicle, vehicle -> sorted position */
    int *first, *last;         /* [L] first and last sorted position occupying each lane */
    int64_t *lane;             /* lane nearest each vehicle */
    int64_t *reach_lo, *reach_hi; /* lanes each box reaches, by sorted position */
    int64_t *target_sorted;    /* target lane by sorted position */
    int *ahead, *behind;       /* [V, L] sorted positions; V or -1 for nobody */
    double *accel, *steering, *hx, *hy;
    int *own_vehicle;
    double *own_gap;
} Work;

typedef struct {
    int vehicle;
    double gap;
} Leader;

/* ------------------------------------------------------------------------------- models */

static double clipd(double value, double lo, double hi)
{
    return value < lo ? lo : (value > hi ? hi : value);
}

static double python_mod(double a, double b)
{ /* a % b as Python and numpy have it: the sign of b */
    double mod = fmod(a, b);
    if (mod != 0.0) {
        if ((b < 0.0) != (mod < 0.0))
            mod += b;
    } else {
        mod = copysign(0.0, b);
    }
    return mod;
}

/* |cos(heading)| and |sin(heading)|, exactly 1 and 0 for a vehicle pointing along the road
 * (most are) without calling cos and sin. */
static void abs_cos_sin(double heading, double *c, double *s)
{
    if (heading == 0.0) {
        *c = 1.0;
        *s = 0.0;
    } else {
        *c = fabs(cos(heading));
        *s = fabs(sin(heading));
    }
}

static double place_of(const Road *road, double x)
{
    return road->circumference > 0.0 ? python_mod(x, road->circumference) : x;
}

static int64_t lane_of(const Road *road, double y)
{
    int64_t lane = (int64_t)(y * road->inverse_width + 0.5); /* truncation, as numpy's astype */
    if (lane < 0)
        lane = 0;
    if (lane > road->total_lanes - 1)
        lane = road->total_lanes - 1;
    return lane;
}

static double idm(const double *P, double speed, double target_speed, double gap,
                  double front_speed, double delta, double time_headway)
{
    double free = 1.0 - pow(speed / fmax(target_speed, 0.1), delta);
    double closing = speed * (speed - front_speed) * P[P_CLOSING_FACTOR];
    double desired = P[P_JAM_GAP] + fmax(0.0, speed * time_headway + closing);
    double ratio = desired / fmax(gap, P[P_MIN_GAP]);
    double accel = P[P_COMFORT_ACCELERATION] * (free - ratio * ratio);
    return fmin(fmax(accel, -P[P_MAX_BRAKING]), P[P_MAX_ACCELERATION]);
}

static double follow(const Scene *s, int follower, Leader leader)
{
    return idm(s->P, s->speed[follower], s->target_speed[follower], leader.gap,
               s->speed[leader.vehicle], s->delta[follower], s->time_headway[follower]);
}

static double wrap_to_pi(double angle)
{ /* (angle + pi) % (2 pi) - pi with Python's (numpy's) sign rule */
    return python_mod(angle + M_PI, 2.0 * M_PI) - M_PI;
}

static double lane_keeping(const double *P, double y, double heading, double speed,
                           double target_y, double length)
{
    if (heading == 0.0 && y == target_y)
        return 0.0; /* what the formulas below give, without their five trigonometric calls */
    double moving = fmax(speed, 1.0);
    double lateral_speed = (target_y - y) / P[P_TAU_LATERAL];
    double heading_ref = clipd(asin(clipd(lateral_speed / moving, -1.0, 1.0)),
                               -P[P_MAX_HEADING_OFFSET], P[P_MAX_HEADING_OFFSET]);
    double yaw_rate = wrap_to_pi(heading_ref - heading) / P[P_TAU_HEADING];
    double beta = asin(clipd(0.5 * length * yaw_rate / moving, -1.0, 1.0));
    return clipd(atan(2.0 * tan(beta)), -P[P_MAX_STEERING], P[P_MAX_STEERING]);
}

static int may_change(const Road *road, int64_t lane, int64_t to, double place)
{
    int64_t step = to - lane;
    if (!(step == 1 || step == -1) || to < 0 || to >= road->lanes)
        return 0;
    if (road->has_ramp && lane == road->lanes)
        return place >= road->merge_start && place <= road->ramp_end;
    return 1;
}

/* ------------------------------------------------------------------------------ neighbours */

static void stable_order(const double *key, int *order, int V)
{ /* indices sorted by key, ties in index order (numpy's stable argsort); insertion sort */
    for (int i = 0; i < V; i++)
        order[i] = i;
    for (int i = 1; i < V; i++) {
        int v = order[i], j = i - 1;
        while (j >= 0 && key[order[j]] > key[v]) {
            order[j + 1] = order[j];
            j--;
        }
        order[j + 1] = v;
    }
}

static void build_tables(const Scene *s, const Road *road, Work *w)
{
    int V = w->V, L = w->L;
    for (int i = 0; i < V; i++)
        w->place[i] = place_of(road, s->x[i]);
    stable_order(w->place, w->order, V);
    for (int p = 0; p < V; p++) {
        int i = w->order[p];
        w->rank[i] = p;
        double c, n;
        abs_cos_sin(s->heading[i], &c, &n);
        double half_y = 0.5 * (s->length[i] * n + s->width[i] * c);
        w->reach_lo[p] = lane_of(road, s->y[i] - half_y);
        w->reach_hi[p] = lane_of(road, s->y[i] + half_y);
        w->target_sorted[p] = s->target[i];
    }
    for (int l = 0; l < L; l++) {
        int next = V, last = -1;
        for (int p = V - 1; p >= 0; p--) {
            w->ahead[p * L + l] = next;
            if ((w->reach_lo[p] <= l && w->reach_hi[p] >= l) || w->target_sorted[p] == l)
                next = p;
        }
        for (int p = 0; p < V; p++) {
            w->behind[p * L + l] = last;
            if ((w->reach_lo[p] <= l && w->reach_hi[p] >= l) || w->target_sorted[p] == l)
                last = p;
        }
        w->first[l] = next;
        w->last[l] = last;
    }
}

/* The nearest vehicle ahead (sign +1) or behind (-1) of vehicle i that occupies lane `lane`,
 * round a ring if need be; gap infinite (and the vehicle arbitrary) when there is none or the
 * lane is off the road. */
static Leader lookup(const Scene *s, const Road *road, const Work *w, int i, int64_t lane,
                     int sign)
{
    Leader found = {w->order[0], INFINITY};
    if (lane < 0 || lane >= w->L)
        return found;
    int slot = (sign > 0 ? w->ahead : w->behind)[w->rank[i] * w->L + lane];
    double shift = 0.0; /* the found vehicle's place is this far from where it is looked for */
    if (slot < 0 || slot >= w->V) {
        if (road->circumference <= 0.0)
            return found;
        slot = sign > 0 ? w->first[lane] : w->last[lane];
        if (slot < 0 || slot >= w->V)
            return found;
        shift = sign > 0 ? road->circumference : -road->circumference;
    }
    found.vehicle = w->order[slot];
    double other = w->place[found.vehicle] + shift;
    double gap = sign > 0 ? other - w->place[i] : -(other - w->place[i]);
    found.gap = gap - 0.5 * (s->length[found.vehicle] + s->length[i]);
    return found;
}

/* The gap from a follower to a leader found around vehicle i. */
static double gap_between(const Scene *s, int i, Leader follower, Leader leader)
{
    return follower.gap + leader.gap + s->length[i];
}

/* ---------------------------------------------------------------------------------- step */

static void lane_accelerations(const Scene *s, const Road *road, Work *w)
{
    for (int i = 0; i < w->V; i++) {
        Leader own = lookup(s, road, w, i, w->lane[i], +1);
        double accel = follow(s, i, own);
        if (s->target[i] != w->lane[i])
            accel = fmin(accel, follow(s, i, lookup(s, road, w, i, s->target[i], +1)));
        if (road->has_ramp && w->lane[i] == road->lanes && s->target[i] == road->lanes) {
            double to_end =
                road->ramp_end - s->P[P_RAMP_STOP_MARGIN] - w->place[i] - 0.5 * s->length[i];
            accel = fmin(accel, idm(s->P, s->speed[i], s->target_speed[i], to_end, 0.0,
                                    s->delta[i], s->time_headway[i]));
        }
        w->accel[i] = accel;
        w->own_vehicle[i] = own.vehicle;
        w->own_gap[i] = own.gap;
    }
}

static int wants_lane_change(const Scene *s, const Road *road, const Work *w, int i, int64_t to)
{
    const double *P = s->P;
    int64_t lane = w->lane[i];
    if (s->kind[i] == EGO_KIND || s->crashed[i] || s->target[i] != lane ||
        !(fabs(s->y[i] - (double)lane * road->lane_width) < P[P_SETTLED_OFFSET]) ||
        !may_change(road, lane, to, w->place[i]))
        return 0;
    Leader own = {w->own_vehicle[i], w->own_gap[i]};
    Leader new_leader = lookup(s, road, w, i, to, +1);
    Leader new_follower = lookup(s, road, w, i, to, -1);
    Leader old_follower = lookup(s, road, w, i, lane, -1);
    Leader self = {i, 0.0};
    double self_now = w->accel[i], self_after = follow(s, i, new_leader);
    double new_now = 0.0, new_after = 0.0, old_now = 0.0, old_after = 0.0;
    if (isfinite(new_follower.gap)) {
        Leader between = {new_leader.vehicle, gap_between(s, i, new_follower, new_leader)};
        new_now = follow(s, new_follower.vehicle, between);
        self.gap = new_follower.gap;
        new_after = follow(s, new_follower.vehicle, self);
    }
    if (isfinite(old_follower.gap)) {
        self.gap = old_follower.gap;
        old_now = follow(s, old_follower.vehicle, self);
        Leader between = {own.vehicle, gap_between(s, i, old_follower, own)};
        old_after = follow(s, old_follower.vehicle, between);
    }
    int safe = new_after >= -P[P_MAX_BRAKING_IMPOSED] && self_after >= -P[P_MAX_BRAKING_IMPOSED];
    if (!safe)
        return 0;
    if (road->has_ramp && lane == road->lanes)
        return 1; /* leaving an ending ramp: safety alone decides */
    double gain = self_after - self_now +
                  s->politeness[i] * ((new_after - new_now) + (old_after - old_now));
    return gain >= P[P_MIN_ACCELERATION_GAIN];
}

/* Separating axis test of the boxes of vehicles a and b, b being dx ahead of a. */
static int boxes_overlap(const Scene *s, int a, int b, double dx)
{
    double heading[2] = {s->heading[a], s->heading[b]};
    double half_length[2] = {0.5 * s->length[a], 0.5 * s->length[b]};
    double half_width[2] = {0.5 * s->width[a], 0.5 * s->width[b]};
    double dy = s->y[b] - s->y[a];
    double axes[4] = {heading[0], heading[0] + M_PI / 2, heading[1], heading[1] + M_PI / 2};
    for (int k = 0; k < 4; k++) {
        double reach[2];
        for (int j = 0; j < 2; j++)
            reach[j] = half_length[j] * fabs(cos(heading[j] - axes[k])) +
                       half_width[j] * fabs(sin(heading[j] - axes[k]));
        if (fabs(dx * cos(axes[k]) + dy * sin(axes[k])) >= reach[0] + reach[1])
            return 0;
    }
    return 1;
}

static void collide(const Scene *s, const Road *road, Work *w)
{
    int V = w->V, ring = road->circumference > 0.0;
    double widest = 0.0;
    for (int i = 0; i < V; i++) {
        double c, n;
        abs_cos_sin(s->heading[i], &c, &n);
        w->hx[i] = 0.5 * (s->length[i] * c + s->width[i] * n);
        w->hy[i] = 0.5 * (s->length[i] * n + s->width[i] * c);
        widest = fmax(widest, w->hx[i]);
    }
    for (int i = 0; i < V; i++)
        w->place[i] = place_of(road, s->x[i]);
    stable_order(w->place, w->order, V);
    for (int p = 0; p < V; p++) {
        int a = w->order[p];
        for (int q = p + 1; q < (ring ? p + V : V); q++) { /* on a ring, round to p again */
            int b = w->order[q % V];
            double dx = w->place[b] - w->place[a] + (q >= V ? road->circumference : 0.0);
            if (dx >= w->hx[a] + widest)
                break; /* sorted: every later vehicle is further along */
            if (dx < w->hx[a] + w->hx[b] && fabs(s->y[b] - s->y[a]) < w->hy[a] + w->hy[b] &&
                boxes_overlap(s, a, b, dx))
                s->crashed[a] = s->crashed[b] = 1;
        }
    }
}

typedef struct {
    int accel_mode, steering_given;
    double acceleration, steering; /* this scene's ego controls, when given */
} Ego;

static void step_scene(const Scene *s, const Road *road, Work *w, double dt, int64_t direction,
                       const Ego *ego)
{
    const double *P = s->P;
    int V = w->V;
    if (ego->steering_given) /* the ego claims the lane it drives in */
        s->target[0] = lane_of(road, s->y[0]);
    for (int i = 0; i < V; i++)
        w->lane[i] = lane_of(road, s->y[i]);
    build_tables(s, road, w);
    lane_accelerations(s, road, w);
    if (direction != 0)
        for (int i = 0; i < V; i++)
            if (wants_lane_change(s, road, w, i, w->lane[i] + direction))
                s->target[i] += direction; /* decisions read only their own target */
    for (int i = 0; i < V; i++)
        w->steering[i] = lane_keeping(P, s->y[i], s->heading[i], s->speed[i],
                                      (double)s->target[i] * road->lane_width, s->length[i]);
    if (ego->accel_mode == ACCEL_TRACK_SPEED)
        w->accel[0] = (s->target_speed[0] - s->speed[0]) / P[P_TAU_ACCELERATION];
    else if (ego->accel_mode == ACCEL_GIVEN)
        w->accel[0] = ego->acceleration;
    if (ego->steering_given)
        w->steering[0] = ego->steering;
    for (int i = 0; i < V; i++) {
        double accel = w->accel[i], steering = w->steering[i];
        if (s->crashed[i]) { /* crashed vehicles stop in one step */
            accel = -s->speed[i] / dt;
            steering = 0.0;
        }
        double travelled = s->speed[i] * dt;
        if (steering == 0.0 && s->heading[i] == 0.0) { /* straight on: the same, exactly */
            s->x[i] += travelled;
        } else {
            double beta = atan(0.5 * tan(steering)), direction_of_travel = s->heading[i] + beta;
            s->x[i] += travelled * cos(direction_of_travel);
            s->y[i] += travelled * sin(direction_of_travel);
            s->heading[i] += travelled * sin(beta) / (0.5 * s->length[i]);
        }
        s->speed[i] = fmin(fmax(s->speed[i] + accel * dt, 0.0), P[P_MAX_SPEED]);
    }
    collide(s, road, w);
}

/* ---------------------------------------------------------------------------- arguments */

typedef struct {
    Py_buffer view;
    int held;
} Arg;

/* Borrow a C-contiguous buffer of `count` items (at least one, any number when `count` is
 * negative) of `itemsize` bytes whose format is one of `formats` (e.g. "d", "lq"); a clear
 * error names the argument otherwise. */
static int borrow(PyObject *obj, const char *name, const char *formats, Py_ssize_t itemsize,
                  Py_ssize_t count, int writable, Arg *arg)
{
    int flags = PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | (writable ? PyBUF_WRITABLE : 0);
    if (PyObject_GetBuffer(obj, &arg->view, flags) < 0) {
        PyErr_Format(PyExc_TypeError, "%s must be a C-contiguous%s numpy array", name,
                     writable ? ", writable" : "");
        return -1;
    }
    arg->held = 1;
    const char *format = arg->view.format ? arg->view.format : "B";
    if (format[0] == '<' || format[0] == '=' || format[0] == '@')
        format++;
    if (arg->view.itemsize != itemsize || strlen(format) != 1 || !strchr(formats, format[0])) {
        PyErr_Format(PyExc_TypeError, "%s has dtype format '%s', expected one of '%s' (%zd bytes)",
                     name, arg->view.format, formats, itemsize);
        return -1;
    }
    if (count < 0 ? arg->view.len < itemsize : arg->view.len != count * itemsize) {
        PyErr_Format(PyExc_ValueError, "%s has %zd items, expected %s%zd", name,
                     arg->view.len / itemsize, count < 0 ? "at least " : "",
                     count < 0 ? (Py_ssize_t)1 : count);
        return -1;
    }
    return 0;
}

enum {
    A_X, A_Y, A_HEADING, A_SPEED, A_LENGTH, A_WIDTH, A_KIND, A_TARGET_LANE, A_TARGET_SPEED,
    A_DELTA, A_TIME_HEADWAY, A_POLITENESS, A_CRASHED, A_VEHICLES
};

static const char *vehicle_fields[A_VEHICLES] = {
    "x", "y", "heading", "speed", "length", "width", "kind", "target_lane", "target_speed",
    "delta", "time_headway", "politeness", "crashed"};

static void work_free(Work *w)
{
    void *blocks[] = {w->place, w->order, w->rank, w->first, w->last, w->lane, w->reach_lo,
                      w->reach_hi, w->target_sorted, w->ahead, w->behind, w->accel,
                      w->steering, w->hx, w->hy, w->own_vehicle, w->own_gap};
    for (size_t k = 0; k < sizeof(blocks) / sizeof(blocks[0]); k++)
        free(blocks[k]);
    memset(w, 0, sizeof(*w));
}

static int work_init(Work *w, int V, int L)
{
    size_t v = (size_t)V, table = (size_t)V * (size_t)L;
    w->V = V;
    w->L = L;
    w->place = malloc(v * sizeof(double));
    w->order = malloc(v * sizeof(int));
    w->rank = malloc(v * sizeof(int));
    w->first = malloc((size_t)L * sizeof(int));
    w->last = malloc((size_t)L * sizeof(int));
    w->lane = malloc(v * sizeof(int64_t));
    w->reach_lo = malloc(v * sizeof(int64_t));
    w->reach_hi = malloc(v * sizeof(int64_t));
    w->target_sorted = malloc(v * sizeof(int64_t));
    w->ahead = malloc(table * sizeof(int));
    w->behind = malloc(table * sizeof(int));
    w->accel = malloc(v * sizeof(double));
    w->steering = malloc(v * sizeof(double));
    w->hx = malloc(v * sizeof(double));
    w->hy = malloc(v * sizeof(double));
    w->own_vehicle = malloc(v * sizeof(int));
    w->own_gap = malloc(v * sizeof(double));
    if (w->place && w->order && w->rank && w->first && w->last && w->lane && w->reach_lo &&
        w->reach_hi && w->target_sorted && w->ahead && w->behind && w->accel && w->steering &&
        w->hx && w->hy && w->own_vehicle && w->own_gap)
        return 0;
    work_free(w);
    PyErr_NoMemory();
    return -1;
}

/* The [S, B] int64 directions; their count S through `substeps`. */
static int borrow_directions(PyObject *obj, Py_ssize_t scenes, Arg *arg, Py_ssize_t *substeps)
{
    if (PyObject_GetBuffer(obj, &arg->view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0)
        return -1;
    arg->held = 1;
    const char *format = arg->view.format ? arg->view.format : "B";
    if (format[0] == '<' || format[0] == '=' || format[0] == '@')
        format++;
    if (arg->view.itemsize != 8 || strlen(format) != 1 || !strchr("lq", format[0]) ||
        arg->view.len % (8 * scenes)) {
        PyErr_Format(PyExc_ValueError, "directions must be int64 [steps, %zd]", scenes);
        return -1;
    }
    *substeps = arg->view.len / (8 * scenes);
    const int64_t *d = arg->view.buf;
    for (Py_ssize_t k = 0; k < *substeps * scenes; k++)
        if (d[k] < -1 || d[k] > 1) {
            PyErr_Format(PyExc_ValueError, "directions must be -1, 0 or +1, got %lld",
                         (long long)d[k]);
            return -1;
        }
    return 0;
}

/* Borrow the 13 [B, V] arrays of a Vehicles tuple (in the order of enum A_*) into a[0..12];
 * the fields a step changes must be writable. */
static int borrow_vehicles(PyObject *vehicles, Py_ssize_t scenes, Py_ssize_t count, Arg *a)
{
    if (!PyTuple_Check(vehicles) || PyTuple_GET_SIZE(vehicles) != A_VEHICLES) {
        PyErr_Format(PyExc_TypeError, "vehicles must be a tuple of the %d Vehicles arrays",
                     A_VEHICLES);
        return -1;
    }
    for (int k = 0; k < A_VEHICLES; k++) {
        int writable = k == A_X || k == A_Y || k == A_HEADING || k == A_SPEED ||
                       k == A_TARGET_LANE || k == A_TARGET_SPEED || k == A_CRASHED;
        const char *formats = k == A_KIND          ? "b"
                              : k == A_TARGET_LANE ? "lq"
                              : k == A_CRASHED     ? "?"
                                                   : "d";
        Py_ssize_t size = k == A_KIND || k == A_CRASHED ? 1 : 8;
        if (borrow(PyTuple_GET_ITEM(vehicles, k), vehicle_fields[k], formats, size,
                   scenes * count, writable, &a[k]) < 0)
            return -1;
    }
    return 0;
}

/* Scene b of the borrowed vehicle arrays. */
static Scene scene_at(const Arg *a, const double *params, Py_ssize_t b, Py_ssize_t count)
{
    Py_ssize_t row = b * count;
    Scene s = {
        params,
        (double *)a[A_X].view.buf + row,
        (double *)a[A_Y].view.buf + row,
        (double *)a[A_HEADING].view.buf + row,
        (double *)a[A_SPEED].view.buf + row,
        (double *)a[A_TARGET_SPEED].view.buf + row,
        (const double *)a[A_LENGTH].view.buf + row,
        (const double *)a[A_WIDTH].view.buf + row,
        (const double *)a[A_DELTA].view.buf + row,
        (const double *)a[A_TIME_HEADWAY].view.buf + row,
        (const double *)a[A_POLITENESS].view.buf + row,
        (const int8_t *)a[A_KIND].view.buf + row,
        (int64_t *)a[A_TARGET_LANE].view.buf + row,
        (uint8_t *)a[A_CRASHED].view.buf + row,
    };
    return s;
}

/* The road from its numbers, checked; -1 with a ValueError naming the call when they are
 * not a road. */
static int road_of(Road *road, const char *call)
{
    if (road->lanes < 1 || road->total_lanes < road->lanes || !(road->lane_width > 0.0) ||
        !(road->circumference >= 0.0)) {
        PyErr_Format(PyExc_ValueError, "%s: bad road (lanes %d, total_lanes %d, lane_width %g, "
                     "circumference %g)", call, road->lanes, road->total_lanes, road->lane_width,
                     road->circumference);
        return -1;
    }
    road->has_ramp = road->total_lanes > road->lanes;
    road->inverse_width = 1.0 / road->lane_width;
    return 0;
}

static void release(Arg *a, size_t n)
{
    for (size_t k = 0; k < n; k++)
        if (a[k].held)
            PyBuffer_Release(&a[k].view);
}

static PyObject *sim_run(PyObject *Py_UNUSED(module), PyObject *args)
{
    PyObject *vehicles, *params_obj, *directions_obj, *ego_acc_obj, *ego_steer_obj;
    Py_ssize_t scenes, count, substeps = 0;
    Road road;
    double dt;
    int accel_mode;
    if (!PyArg_ParseTuple(args, "OnnOiidddddOiOO:run", &vehicles, &scenes, &count, &params_obj,
                          &road.lanes, &road.total_lanes, &road.lane_width, &road.merge_start,
                          &road.ramp_end, &road.circumference, &dt, &directions_obj,
                          &accel_mode, &ego_acc_obj, &ego_steer_obj))
        return NULL;
    if (road_of(&road, "run") < 0)
        return NULL;
    if (scenes < 1 || count < 1 || count > INT_MAX || !(dt > 0.0) ||
        accel_mode < ACCEL_TRAFFIC || accel_mode > ACCEL_GIVEN) {
        PyErr_SetString(PyExc_ValueError, "run: bad sizes, dt or mode");
        return NULL;
    }
    Arg a[A_VEHICLES + 4] = {0};
    Arg *params = &a[A_VEHICLES], *directions = &a[A_VEHICLES + 1];
    Arg *ego_acc = &a[A_VEHICLES + 2], *ego_steer = &a[A_VEHICLES + 3];
    int steering_given = ego_steer_obj != Py_None;
    PyObject *result = NULL;
    Work w = {0};
    if (borrow_vehicles(vehicles, scenes, count, a) < 0 ||
        borrow(params_obj, "params", "d", 8, P_COUNT, 0, params) < 0 ||
        borrow_directions(directions_obj, scenes, directions, &substeps) < 0 ||
        (accel_mode == ACCEL_GIVEN &&
         borrow(ego_acc_obj, "ego acceleration", "d", 8, scenes, 0, ego_acc) < 0) ||
        (steering_given &&
         borrow(ego_steer_obj, "ego steering", "d", 8, scenes, 0, ego_steer) < 0) ||
        work_init(&w, (int)count, road.total_lanes) < 0)
        goto done;
    const int64_t *dirs = directions->view.buf;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t b = 0; b < scenes; b++) {
        Scene s = scene_at(a, params->view.buf, b, count);
        Ego ego = {accel_mode, steering_given,
                   accel_mode == ACCEL_GIVEN ? ((const double *)ego_acc->view.buf)[b] : 0.0,
                   steering_given ? ((const double *)ego_steer->view.buf)[b] : 0.0};
        for (Py_ssize_t k = 0; k < substeps; k++)
            step_scene(&s, &road, &w, dt, dirs[k * scenes + b], &ego);
    }
    Py_END_ALLOW_THREADS
    result = Py_NewRef(Py_None);
done:
    work_free(&w);
    release(a, sizeof(a) / sizeof(a[0]));
    return result;
}

/* ------------------------------------------------------------------------ leader gaps */

static PyObject *sim_leader_gaps(PyObject *Py_UNUSED(module), PyObject *args)
{
    PyObject *vehicles, *out_obj;
    Py_ssize_t scenes, count;
    Road road;
    if (!PyArg_ParseTuple(args, "OnniiddddO:leader_gaps", &vehicles, &scenes, &count,
                          &road.lanes, &road.total_lanes, &road.lane_width, &road.merge_start,
                          &road.ramp_end, &road.circumference, &out_obj))
        return NULL;
    if (road_of(&road, "leader_gaps") < 0)
        return NULL;
    if (scenes < 1 || count < 1 || count > INT_MAX) {
        PyErr_SetString(PyExc_ValueError, "leader_gaps: scenes and count must be >= 1");
        return NULL;
    }
    Arg a[A_VEHICLES + 1] = {0};
    PyObject *result = NULL;
    Work w = {0};
    if (borrow_vehicles(vehicles, scenes, count, a) < 0 ||
        borrow(out_obj, "out", "d", 8, scenes * count, 1, &a[A_VEHICLES]) < 0 ||
        work_init(&w, (int)count, road.total_lanes) < 0)
        goto done;
    double *out = a[A_VEHICLES].view.buf;
    for (Py_ssize_t b = 0; b < scenes; b++) {
        Scene s = scene_at(a, NULL, b, count);
        for (int i = 0; i < w.V; i++)
            w.lane[i] = lane_of(&road, s.y[i]);
        build_tables(&s, &road, &w);
        for (int i = 0; i < w.V; i++)
            out[b * count + i] = lookup(&s, &road, &w, i, w.lane[i], +1).gap;
    }
    result = Py_NewRef(Py_None);
done:
    work_free(&w);
    release(a, sizeof(a) / sizeof(a[0]));
    return result;
}

/* -------------------------------------------------------------------------- policy step */

enum Action { LANE_LEFT, IDLE, LANE_RIGHT, FASTER, SLOWER, ACTION_COUNT };

enum Setting { /* a DrivingConfig's numbers, in the order envs.driving.simulation passes them */
    S_POLICY_DT,        /* 1 / policy_frequency [s] */
    S_DURATION,         /* [s] */
    S_ROAD_LENGTH,      /* the ego's episode ends past it [m] (may be inf) */
    S_COLLISION_REWARD,
    S_HIGH_SPEED_REWARD,
    S_RIGHT_LANE_REWARD,
    S_LANE_CHANGE_REWARD,
    S_SPEED_LOW,        /* reward_speed_range [m/s] */
    S_SPEED_HIGH,
    S_NORMALIZE,        /* 0 or 1 */
    S_OFFROAD_TERMINAL, /* 0 or 1 */
    S_COUNT
};

enum { T_COLLISION, T_HIGH_SPEED, T_RIGHT_LANE, T_LANE_CHANGE, T_COUNT }; /* reward terms */

enum { E_SPEED_INDEX, E_SUBSTEP, E_STEPS, E_TIME, E_SPEED_SUM, E_COUNT }; /* episode arrays */

static const char *episode_fields[E_COUNT] = {"speed_index", "substep", "steps", "time",
                                              "speed_sum"};

/* Which meta-actions act for the ego of scene s (envs.driving.simulation.DrivingSim.action_mask). */
static void meta_action_mask(const Scene *s, const Road *road, int64_t speed_index,
                             Py_ssize_t speeds, uint8_t *mask)
{
    int64_t lane = s->target[0];
    double place = place_of(road, s->x[0]);
    mask[LANE_LEFT] = (uint8_t)may_change(road, lane, lane - 1, place);
    mask[IDLE] = 1;
    mask[LANE_RIGHT] = (uint8_t)may_change(road, lane, lane + 1, place);
    mask[FASTER] = speed_index < speeds - 1;
    mask[SLOWER] = speed_index > 0;
}

/* envs.driving.road.Road.on_road for one point. */
static int on_road(const Road *road, double x, double y)
{
    double half = road->lane_width / 2;
    if (y >= -half && y <= (double)(road->lanes - 1) * road->lane_width + half)
        return 1;
    if (!road->has_ramp)
        return 0;
    double ramp_y = (double)road->lanes * road->lane_width;
    return y > ramp_y - half && y <= ramp_y + half && place_of(road, x) <= road->ramp_end;
}

static PyObject *sim_policy_step(PyObject *Py_UNUSED(module), PyObject *args)
{
    PyObject *vehicles, *episode, *params_obj, *settings_obj, *speeds_obj, *cycle_obj;
    PyObject *actions_obj, *reward_obj, *terminated_obj, *truncated_obj, *terms_obj, *mask_obj;
    Py_ssize_t scenes, count, substeps;
    Road road;
    double dt;
    if (!PyArg_ParseTuple(args, "OOnnOiiddddOOdnOOOOOOO:policy_step", &vehicles, &episode,
                          &scenes, &count, &params_obj, &road.lanes, &road.total_lanes,
                          &road.lane_width, &road.merge_start, &road.ramp_end,
                          &road.circumference, &settings_obj, &speeds_obj, &dt, &substeps,
                          &cycle_obj, &actions_obj, &reward_obj, &terminated_obj,
                          &truncated_obj, &terms_obj, &mask_obj))
        return NULL;
    if (road_of(&road, "policy_step") < 0)
        return NULL;
    if (scenes < 1 || count < 1 || count > INT_MAX || !(dt > 0.0) || substeps < 1) {
        PyErr_SetString(PyExc_ValueError, "policy_step: bad sizes, dt or substeps");
        return NULL;
    }
    if (!PyTuple_Check(episode) || PyTuple_GET_SIZE(episode) != E_COUNT) {
        PyErr_Format(PyExc_TypeError, "episode must be a tuple of the %d episode arrays",
                     E_COUNT);
        return NULL;
    }
    enum { A_PARAMS = A_VEHICLES, A_EPISODE, A_SETTINGS = A_EPISODE + E_COUNT, A_SPEEDS,
           A_CYCLE, A_ACTIONS, A_REWARD, A_TERMINATED, A_TRUNCATED, A_TERMS, A_MASK, A_ALL };
    Arg a[A_ALL] = {0};
    PyObject *result = NULL;
    Work w = {0};
    if (borrow_vehicles(vehicles, scenes, count, a) < 0 ||
        borrow(params_obj, "params", "d", 8, P_COUNT, 0, &a[A_PARAMS]) < 0)
        goto done;
    for (int k = 0; k < E_COUNT; k++)
        if (borrow(PyTuple_GET_ITEM(episode, k), episode_fields[k],
                   k < E_TIME ? "lq" : "d", 8, scenes, 1, &a[A_EPISODE + k]) < 0)
            goto done;
    if (borrow(settings_obj, "settings", "d", 8, S_COUNT, 0, &a[A_SETTINGS]) < 0)
        goto done;
    if (borrow(speeds_obj, "target_speeds", "d", 8, -1, 0, &a[A_SPEEDS]) < 0 ||
        borrow(cycle_obj, "lane_change_cycle", "lq", 8, -1, 0, &a[A_CYCLE]) < 0 ||
        borrow(actions_obj, "actions", "lq", 8, scenes, 0, &a[A_ACTIONS]) < 0 ||
        borrow(reward_obj, "reward", "d", 8, scenes, 1, &a[A_REWARD]) < 0 ||
        borrow(terminated_obj, "terminated", "?", 1, scenes, 1, &a[A_TERMINATED]) < 0 ||
        borrow(truncated_obj, "truncated", "?", 1, scenes, 1, &a[A_TRUNCATED]) < 0 ||
        borrow(terms_obj, "terms", "d", 8, T_COUNT * scenes, 1, &a[A_TERMS]) < 0 ||
        borrow(mask_obj, "mask", "?", 1, ACTION_COUNT * scenes, 1, &a[A_MASK]) < 0)
        goto done;
    const int64_t *actions = a[A_ACTIONS].view.buf;
    int64_t *speed_index = a[A_EPISODE + E_SPEED_INDEX].view.buf;
    Py_ssize_t speeds = a[A_SPEEDS].view.len / 8, cycle = a[A_CYCLE].view.len / 8;
    for (Py_ssize_t b = 0; b < scenes; b++) { /* refuse before any scene moves */
        if (actions[b] < 0 || actions[b] >= ACTION_COUNT) {
            PyErr_Format(PyExc_ValueError, "discrete actions must be ints in 0..%d, got %lld "
                         "for scene %zd", ACTION_COUNT - 1, (long long)actions[b], b);
            goto done;
        }
        if (speed_index[b] < 0 || speed_index[b] >= speeds) {
            PyErr_Format(PyExc_ValueError, "speed_index %lld of scene %zd is outside "
                         "target_speeds (%zd speeds)", (long long)speed_index[b], b, speeds);
            goto done;
        }
    }
    if (work_init(&w, (int)count, road.total_lanes) < 0)
        goto done;
    const double *S = a[A_SETTINGS].view.buf, *target_speeds = a[A_SPEEDS].view.buf;
    const int64_t *lane_change_cycle = a[A_CYCLE].view.buf;
    int64_t *substep = a[A_EPISODE + E_SUBSTEP].view.buf;
    int64_t *steps = a[A_EPISODE + E_STEPS].view.buf;
    double *time = a[A_EPISODE + E_TIME].view.buf;
    double *speed_sum = a[A_EPISODE + E_SPEED_SUM].view.buf;
    double *reward = a[A_REWARD].view.buf, *terms = a[A_TERMS].view.buf;
    uint8_t *terminated = a[A_TERMINATED].view.buf, *truncated = a[A_TRUNCATED].view.buf;
    uint8_t *mask = a[A_MASK].view.buf;
    const Ego track_targets = {ACCEL_TRACK_SPEED, 0, 0.0, 0.0};
    for (Py_ssize_t b = 0; b < scenes; b++) {
        Scene s = scene_at(a, a[A_PARAMS].view.buf, b, count);
        /* the meta-action; one that cannot act idles */
        uint8_t *m = mask + b * ACTION_COUNT;
        meta_action_mask(&s, &road, speed_index[b], speeds, m);
        int64_t taken = m[actions[b]] ? actions[b] : IDLE;
        int64_t lane_step = taken == LANE_LEFT ? -1 : (taken == LANE_RIGHT ? 1 : 0);
        s.target[0] += lane_step;
        speed_index[b] += taken == FASTER ? 1 : (taken == SLOWER ? -1 : 0);
        s.target_speed[0] = target_speeds[speed_index[b]];
        /* the traffic, deciding lane changes on the cycle's substeps */
        for (Py_ssize_t k = 0; k < substeps; k++)
            step_scene(&s, &road, &w, dt, lane_change_cycle[(substep[b] + k) % cycle],
                       &track_targets);
        substep[b] += substeps;
        time[b] += S[S_POLICY_DT];
        steps[b] += 1;
        speed_sum[b] += s.speed[0];
        /* reward terms (envs.driving.rewards) and the episode's end */
        int road_here = on_road(&road, s.x[0], s.y[0]);
        double low = S[S_SPEED_LOW], high = S[S_SPEED_HIGH];
        double forward = s.speed[0] * cos(s.heading[0]);
        double lanes_right = (double)(road.lanes - 1 > 1 ? road.lanes - 1 : 1);
        double *t = terms;
        t[T_COLLISION * scenes + b] = S[S_COLLISION_REWARD] * (double)s.crashed[0];
        t[T_HIGH_SPEED * scenes + b] =
            S[S_HIGH_SPEED_REWARD] * fmin(fmax((forward - low) / (high - low), 0.0), 1.0);
        t[T_RIGHT_LANE * scenes + b] =
            S[S_RIGHT_LANE_REWARD] *
            fmin(fmax((double)lane_of(&road, s.y[0]) / lanes_right, 0.0), 1.0);
        t[T_LANE_CHANGE * scenes + b] = S[S_LANE_CHANGE_REWARD] * (double)(lane_step != 0);
        double r = t[T_COLLISION * scenes + b] + t[T_HIGH_SPEED * scenes + b] +
                   t[T_RIGHT_LANE * scenes + b] + t[T_LANE_CHANGE * scenes + b];
        if (S[S_NORMALIZE] != 0.0) {
            double worst = S[S_COLLISION_REWARD];
            double best = S[S_HIGH_SPEED_REWARD] + S[S_RIGHT_LANE_REWARD];
            r = (r - worst) / (best - worst);
        }
        reward[b] = r * (double)road_here;
        terminated[b] = s.crashed[0] || s.x[0] > S[S_ROAD_LENGTH] ||
                        (S[S_OFFROAD_TERMINAL] != 0.0 && !road_here);
        truncated[b] = time[b] >= S[S_DURATION] - 1e-9 && !terminated[b];
        meta_action_mask(&s, &road, speed_index[b], speeds, m); /* of the new state */
    }
    result = Py_NewRef(Py_None);
done:
    work_free(&w);
    release(a, sizeof(a) / sizeof(a[0]));
    return result;
}

/* ------------------------------------------------------------------------- observations */

enum { FEATURES = 7 }; /* presence, x, y, vx, vy, cos_h, sin_h */

static float clipf(double value)
{
    float f = (float)value;
    return f < -1.0f ? -1.0f : (f > 1.0f ? 1.0f : f);
}

/* envs.driving.observations.kinematics for one scene: the ego, then the nearest vehicles
 * within x_range ahead or behind (stable order by distance). */
static void kinematics_scene(const double *x, const double *y, const double *heading,
                             const double *speed, int V, int N, float *out, double *distance,
                             double *dxs, int *order, const double scale[3], double circumference)
{
    for (int i = 0; i < V; i++) {
        double dx = x[i] - x[0], dy = y[i] - y[0];
        if (circumference > 0.0) /* the nearest way round */
            dx = python_mod(dx + circumference / 2, circumference) - circumference / 2;
        dxs[i] = dx;
        distance[i] = i == 0 ? -1.0 : (fabs(dx) < scale[0] ? hypot(dx, dy) : INFINITY);
    }
    stable_order(distance, order, V);
    double vx0 = speed[0] * cos(heading[0]), vy0 = speed[0] * sin(heading[0]);
    memset(out, 0, (size_t)N * FEATURES * sizeof(float));
    int rows = V < N ? V : N;
    for (int r = 0; r < rows; r++) {
        int i = order[r];
        if (!isfinite(distance[i]))
            break; /* absent rows stay zero */
        float *row = out + r * FEATURES;
        row[0] = 1.0f;
        row[1] = clipf(dxs[i] * (1.0 / scale[0]));
        row[2] = clipf((r == 0 ? y[0] : y[i] - y[0]) * (1.0 / scale[1]));
        row[3] = clipf((r == 0 ? vx0 : speed[i] * cos(heading[i]) - vx0) * (1.0 / scale[2]));
        row[4] = clipf((r == 0 ? vy0 : speed[i] * sin(heading[i]) - vy0) * (1.0 / scale[2]));
        row[5] = clipf(cos(heading[i]));
        row[6] = clipf(sin(heading[i]));
    }
}

static PyObject *sim_kinematics(PyObject *Py_UNUSED(module), PyObject *args)
{
    PyObject *objs[5];
    Py_ssize_t scenes, count, observed;
    double scale[3], circumference;
    if (!PyArg_ParseTuple(args, "OOOOnnnOdddd:kinematics", &objs[0], &objs[1], &objs[2],
                          &objs[3], &scenes, &count, &observed, &objs[4], &scale[0], &scale[1],
                          &scale[2], &circumference))
        return NULL;
    if (scenes < 1 || count < 1 || observed < 1) {
        PyErr_SetString(PyExc_ValueError, "kinematics: scenes, count and observed must be >= 1");
        return NULL;
    }
    static const char *names[5] = {"x", "y", "heading", "speed", "out"};
    Arg a[5] = {0};
    PyObject *result = NULL;
    double *distance = malloc(count * sizeof(double)), *dxs = malloc(count * sizeof(double));
    int *order = malloc(count * sizeof(int));
    if (!distance || !dxs || !order) {
        PyErr_NoMemory();
        goto done;
    }
    for (int k = 0; k < 5; k++)
        if (borrow(objs[k], names[k], k == 4 ? "f" : "d", k == 4 ? 4 : 8,
                   k == 4 ? scenes * observed * FEATURES : scenes * count, k == 4, &a[k]) < 0)
            goto done;
    for (Py_ssize_t b = 0; b < scenes; b++) {
        Py_ssize_t row = b * count;
        kinematics_scene((double *)a[0].view.buf + row, (double *)a[1].view.buf + row,
                         (double *)a[2].view.buf + row, (double *)a[3].view.buf + row,
                         (int)count, (int)observed,
                         (float *)a[4].view.buf + b * observed * FEATURES, distance, dxs, order,
                         scale, circumference);
    }
    result = Py_NewRef(Py_None);
done:
    free(distance);
    free(dxs);
    free(order);
    for (int k = 0; k < 5; k++)
        if (a[k].held)
            PyBuffer_Release(&a[k].view);
    return result;
}

static PyMethodDef sim_methods[] = {
    {"run", sim_run, METH_VARARGS,
     "run(vehicles, scenes, count, params, lanes, total_lanes, lane_width, merge_start,\n"
     "    ramp_end, circumference, dt, directions, acceleration_mode, ego_acceleration,\n"
     "    ego_steering) -> None\n"
     "Advance every scene by len(directions) steps of dt in place (see envs.driving.traffic.run)."},
    {"leader_gaps", sim_leader_gaps, METH_VARARGS,
     "leader_gaps(vehicles, scenes, count, lanes, total_lanes, lane_width, merge_start,\n"
     "    ramp_end, circumference, out) -> None\n"
     "Each vehicle's bumper-to-bumper gap to the nearest vehicle ahead in its own lane (inf\n"
     "when none) into the float64 [B, V] array out (see envs.driving.traffic.leader_gaps)."},
    {"policy_step", sim_policy_step, METH_VARARGS,
     "policy_step(vehicles, episode, scenes, count, params, lanes, total_lanes, lane_width,\n"
     "    merge_start, ramp_end, circumference, settings, target_speeds, dt, substeps,\n"
     "    lane_change_cycle, actions, reward, terminated, truncated, terms, mask) -> None\n"
     "One policy step of every scene under discrete meta-actions, in place, writing the\n"
     "reward, the episode's end, the reward terms and the new action mask\n"
     "(see envs.driving.simulation.DrivingSim.step)."},
    {"kinematics", sim_kinematics, METH_VARARGS,
     "kinematics(x, y, heading, speed, scenes, count, observed, out, x_range, y_range,\n"
     "    v_range, circumference) -> None\n"
     "The kinematics observation of every scene into the float32 array out\n"
     "(see envs.driving.observations.kinematics)."},
    {NULL},
};

static struct PyModuleDef sim_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "envs.driving._sim",
    .m_doc = "The driving traffic step in C (see envs.driving.traffic).",
    .m_size = -1,
    .m_methods = sim_methods,
};

PyMODINIT_FUNC PyInit__sim(void)
{
    PyObject *m = PyModule_Create(&sim_module);
    if (!m)
        return NULL;
    if (PyModule_AddIntConstant(m, "PARAM_COUNT", P_COUNT) < 0 ||
        PyModule_AddIntConstant(m, "ACCEL_TRAFFIC", ACCEL_TRAFFIC) < 0 ||
        PyModule_AddIntConstant(m, "ACCEL_TRACK_SPEED", ACCEL_TRACK_SPEED) < 0 ||
        PyModule_AddIntConstant(m, "ACCEL_GIVEN", ACCEL_GIVEN) < 0 ||
        PyModule_AddIntConstant(m, "SETTING_COUNT", S_COUNT) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
