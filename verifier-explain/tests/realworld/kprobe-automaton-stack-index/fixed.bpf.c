#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct automaton_s {
	int initial_state;
	int function[4][4];
};
typedef struct automaton_s automaton_t;

struct {
	__uint(type, BPF_MAP_TYPE_STACK);
	__uint(max_entries, 1);
	__type(value, automaton_t);
} automaton SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, int);
	__type(value, int);
} state_store SEC(".maps");

SEC("kretprobe/tcp_v4_connect")
int trace_connect_v4_return(void *ctx)
{
	int key = 0, init_val = 0;
	int *curr_state;

	curr_state = bpf_map_lookup_elem(&state_store, &key);
	if (!curr_state) {
		bpf_map_update_elem(&state_store, &key, &init_val, BPF_NOEXIST);
		curr_state = bpf_map_lookup_elem(&state_store, &key);
		if (!curr_state)
			return -1;
	}
	bpf_printk("curr state: %d", *curr_state);

	automaton_t aut;
	if (bpf_map_peek_elem(&automaton, &aut) < 0) {
		bpf_printk("automaton init");
		aut = (automaton_t) {
			.initial_state = 0,
			.function = {
				{ 1, -1, -1, -1 },
				{ -1, 2, -1, -1 },
				{ -1, -1, 3, -1 },
				{ -1, -1, -1, 0 },
			},
		};
		bpf_map_push_elem(&automaton, &aut, BPF_ANY);
	}

	unsigned int state = *curr_state;

	if (state >= 4)
		return 0;
	int next = aut.function[state][1];
	bpf_printk("next state: %d", next);
	bpf_map_update_elem(&state_store, &key, &next, BPF_ANY);
	return 0;
}

char _license[] SEC("license") = "GPL";
