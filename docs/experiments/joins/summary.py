import json,sys,statistics as st
D='runs/joins'
def summ(f):
    return json.load(open(f))['summary']
rows=[]
for suite in ['compound-loss','held','dev']:
    for arm in ['control','joins']:
        vals={}
        for s in (1,2,3):
            S=summ(f'{D}/e-{arm}-s{s}-{suite}.json')
            for k in ['all','calc','calc/en','calc/zh']:
                if k in S:
                    vals.setdefault(k+' answers',[]).append(S[k].get('answer') or 0)
                    vals.setdefault(k+' routing',[]).append(S[k]['routing'])
            if 'literature' in S: vals.setdefault('nDCG',[]).append(S['all']['ndcg10'])
        for k,v in vals.items():
            print(f"{suite:14} {arm:8} {k:18} " + ' '.join(f'{x*100:5.1f}' for x in v) + f"   mean {st.mean(v)*100:5.1f}")
try:
    S=summ(f'{D}/e-shipped-compound-loss.json'); print('shipped compound-loss', {k:(round(S[k]['answer']*100,1), round(S[k]['routing']*100,1)) for k in ['all','calc/en','calc/zh'] if k in S})
except Exception as e: print(e)
