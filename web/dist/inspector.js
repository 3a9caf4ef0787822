var Rn=Object.defineProperty;var Mn=(e,t,n)=>t in e?Rn(e,t,{enumerable:!0,configurable:!0,writable:!0,value:n}):e[t]=n;var ie=(e,t,n)=>Mn(e,typeof t!="symbol"?t+"":t,n);var Ne,k,yt,Pn,te,ht,bt,vt,Fe,we,me,xt,Ge,He,We,Et,Ce={},Ie=[],Un=/acit|ex(?:s|g|n|p|$)|rph|grid|ows|mnc|ntw|ine[ch]|zoo|^ord|itera/i,Ae=Array.isArray;function X(e,t){for(var n in t)e[n]=t[n];return e}function Qe(e){e&&e.parentNode&&e.parentNode.removeChild(e)}function Ke(e,t,n){var r,s,o,i={};for(o in t)o=="key"?r=t[o]:o=="ref"?s=t[o]:i[o]=t[o];if(arguments.length>2&&(i.children=arguments.length>3?Ne.call(arguments,2):n),typeof e=="function"&&e.defaultProps!=null)for(o in e.defaultProps)i[o]===void 0&&(i[o]=e.defaultProps[o]);return Se(e,i,r,s,null)}function Se(e,t,n,r,s){var o={type:e,props:t,key:n,ref:r,__k:null,__:null,__b:0,__e:null,__c:null,constructor:void 0,__v:s??++yt,__i:-1,__u:0};return s==null&&k.vnode!=null&&k.vnode(o),o}function Oe(e){return e.children}function Te(e,t){this.props=e,this.context=t}function re(e,t){if(t==null)return e.__?re(e.__,e.__i+1):null;for(var n;t<e.__k.length;t++)if((n=e.__k[t])!=null&&n.__e!=null)return n.__e;return typeof e.type=="function"?re(e):null}function Bn(e){if(e.__P&&e.__d){var t=e.__v,n=t.__e,r=[],s=[],o=X({},t);o.__v=t.__v+1,k.vnode&&k.vnode(o),ze(e.__P,o,t,e.__n,e.__P.namespaceURI,32&t.__u?[n]:null,r,n??re(t),!!(32&t.__u),s),o.__v=t.__v,o.__.__k[o.__i]=o,It(r,o,s),t.__e=t.__=null,o.__e!=n&&wt(o)}}function wt(e){if((e=e.__)!=null&&e.__c!=null)return e.__e=e.__c.base=null,e.__k.some(function(t){if(t!=null&&t.__e!=null)return e.__e=e.__c.base=t.__e}),wt(e)}function Je(e){(!e.__d&&(e.__d=!0)&&te.push(e)&&!ke.__r++||ht!=k.debounceRendering)&&((ht=k.debounceRendering)||bt)(ke)}function ke(){try{for(var e,t=1;te.length;)te.length>t&&te.sort(vt),e=te.shift(),t=te.length,Bn(e)}finally{te.length=ke.__r=0}}function St(e,t,n,r,s,o,i,c,l,u,p){var f,a,m,v,_,g,h=r&&r.__k||Ie,y=t.length;for(l=Dn(n,t,h,l,y),f=0;f<y;f++)(m=n.__k[f])!=null&&(a=m.__i!=-1&&h[m.__i]||Ce,m.__i=f,g=ze(e,m,a,s,o,i,c,l,u,p),v=m.__e,m.ref&&a.ref!=m.ref&&(a.ref&&Ye(a.ref,null,m),p.push(m.ref,m.__c||v,m)),_==null&&v!=null&&(_=v),4&m.__u?(l=Tt(m,l,e),a.__e&&(a.__e=null)):typeof m.type=="function"&&g!==void 0?l=g:v&&(l=v.nextSibling),m.__u&=-7);return n.__e=_,l}function Dn(e,t,n,r,s){var o,i,c,l,u,p=n.length,f=p,a=0;for(e.__k=new Array(s),o=0;o<s;o++)(i=t[o])!=null&&typeof i!="boolean"&&typeof i!="function"?(typeof i=="string"||typeof i=="number"||typeof i=="bigint"||i.constructor==String?i=e.__k[o]=Se(null,i,null,null,null):Ae(i)?i=e.__k[o]=Se(Oe,{children:i},null,null,null):i.constructor===void 0&&i.__b>0?i=e.__k[o]=Se(i.type,i.props,i.key,i.ref?i.ref:null,i.__v):e.__k[o]=i,l=o+a,i.__=e,i.__b=e.__b+1,c=null,(u=i.__i=Ln(i,n,l,f))!=-1&&(f--,(c=n[u])&&(c.__u|=2)),c==null||c.__v==null?(u==-1&&(s>p?a--:s<p&&a++),typeof i.type!="function"&&(i.__u|=4)):u!=l&&(u==l-1?a--:u==l+1?a++:(u>l?a--:a++,i.__u|=4))):e.__k[o]=null;if(f)for(o=0;o<p;o++)(c=n[o])!=null&&(2&c.__u)==0&&(c.__e==r&&(r=re(c)),Nt(c,c));return r}function Tt(e,t,n){var r,s;if(typeof e.type=="function"){for(r=e.__k,s=0;r&&s<r.length;s++)r[s]&&(r[s].__=e,t=Tt(r[s],t,n));return t}e.__e!=t&&(t&&e.type&&!t.parentNode&&(t=re(e)),t=n.insertBefore(e.__e,t||null));do t=t&&t.nextSibling;while(t!=null&&t.nodeType==8);return t}function Ln(e,t,n,r){var s,o,i,c=e.key,l=e.type,u=t[n],p=u!=null&&(2&u.__u)==0;if(u===null&&c==null||p&&c==u.key&&l==u.type)return n;if(r>(p?1:0)){for(s=n-1,o=n+1;s>=0||o<t.length;)if((u=t[i=s>=0?s--:o++])!=null&&(2&u.__u)==0&&c==u.key&&l==u.type)return i}return-1}function $t(e,t,n){t[0]=="-"?e.setProperty(t,n??""):e[t]=n==null?"":typeof n!="number"||Un.test(t)?n:n+"px"}function Ee(e,t,n,r,s){var o,i;e:if(t=="style")if(typeof n=="string")e.style.cssText=n;else{if(typeof r=="string"&&(e.style.cssText=r=""),r)for(t in r)n&&t in n||$t(e.style,t,"");if(n)for(t in n)r&&n[t]==r[t]||$t(e.style,t,n[t])}else if(t[0]=="o"&&t[1]=="n")o=t!=(t=t.replace(xt,"$1")),i=t.toLowerCase(),t=i in e||t=="onFocusOut"||t=="onFocusIn"?i.slice(2):t.slice(2),e.l||(e.l={}),e.l[t+o]=n,n?r?n[me]=r[me]:(n[me]=Ge,e.addEventListener(t,o?We:He,o)):e.removeEventListener(t,o?We:He,o);else{if(s=="http://www.w3.org/2000/svg")t=t.replace(/xlink(H|:h)/,"h").replace(/sName$/,"s");else if(t!="width"&&t!="height"&&t!="href"&&t!="list"&&t!="form"&&t!="tabIndex"&&t!="download"&&t!="rowSpan"&&t!="colSpan"&&t!="role"&&t!="popover"&&t in e)try{e[t]=n??"";break e}catch{}typeof n=="function"||(n==null||n===!1&&t[4]!="-"?e.removeAttribute(t):e.setAttribute(t,t=="popover"&&n==1?"":n))}}function gt(e){return function(t){if(this.l){var n=this.l[t.type+e];if(t[we]==null)t[we]=Ge++;else if(t[we]<n[me])return;return n(k.event?k.event(t):t)}}}function ze(e,t,n,r,s,o,i,c,l,u){var p,f,a,m,v,_,g,h,y,$,P,A,B,U,x,E,w=t.type;if(t.constructor!==void 0)return null;128&n.__u&&(l=!!(32&n.__u),o=[c=t.__e=n.__e]),(p=k.__b)&&p(t);e:if(typeof w=="function"){f=i.length;try{if(y=t.props,$=w.prototype&&w.prototype.render,P=(p=w.contextType)&&r[p.__c],A=p?P?P.props.value:p.__:r,n.__c?h=(a=t.__c=n.__c).__=a.__E:($?t.__c=a=new w(y,A):(t.__c=a=new Te(y,A),a.constructor=w,a.render=qn),P&&P.sub(a),a.state||(a.state={}),a.__n=r,m=a.__d=!0,a.__h=[],a._sb=[]),$&&a.__s==null&&(a.__s=a.state),$&&w.getDerivedStateFromProps!=null&&(a.__s==a.state&&(a.__s=X({},a.__s)),X(a.__s,w.getDerivedStateFromProps(y,a.__s))),v=a.props,_=a.state,a.__v=t,m)$&&w.getDerivedStateFromProps==null&&a.componentWillMount!=null&&a.componentWillMount(),$&&a.componentDidMount!=null&&a.__h.push(a.componentDidMount);else{if($&&w.getDerivedStateFromProps==null&&y!==v&&a.componentWillReceiveProps!=null&&a.componentWillReceiveProps(y,A),t.__v==n.__v||!a.__e&&a.shouldComponentUpdate!=null&&a.shouldComponentUpdate(y,a.__s,A)===!1){t.__v!=n.__v&&(a.props=y,a.state=a.__s,a.__d=!1),t.__e=n.__e,t.__k=n.__k,t.__k.some(function(V){V&&(V.__=t)}),Ie.push.apply(a.__h,a._sb),a._sb=[],a.__h.length&&i.push(a),c=re(n);break e}a.componentWillUpdate!=null&&a.componentWillUpdate(y,a.__s,A),$&&a.componentDidUpdate!=null&&a.__h.push(function(){a.componentDidUpdate(v,_,g)})}if(a.context=A,a.props=y,a.__P=e,a.__e=!1,B=k.__r,U=0,$)a.state=a.__s,a.__d=!1,B&&B(t),p=a.render(a.props,a.state,a.context),Ie.push.apply(a.__h,a._sb),a._sb=[];else do a.__d=!1,B&&B(t),p=a.render(a.props,a.state,a.context),a.state=a.__s;while(a.__d&&++U<25);a.state=a.__s,a.getChildContext!=null&&(r=X(X({},r),a.getChildContext())),$&&!m&&a.getSnapshotBeforeUpdate!=null&&(g=a.getSnapshotBeforeUpdate(v,_)),x=p!=null&&p.type===Oe&&p.key==null?kt(p.props.children):p,c=St(e,Ae(x)?x:[x],t,n,r,s,o,i,c,l,u),a.base=t.__e,t.__u&=-161,a.__h.length&&i.push(a),h&&(a.__E=a.__=null)}catch(V){if(i.length=f,t.__v=null,l||o!=null){if(V.then){for(t.__u|=l?160:128;c&&c.nodeType==8&&c.nextSibling;)c=c.nextSibling;o!=null&&(o[o.indexOf(c)]=null),t.__e=c}else if(o!=null)for(E=o.length;E--;)Qe(o[E])}else t.__e=n.__e;t.__k==null&&(t.__k=n.__k||[]),V.then||Ct(t),k.__e(V,t,n)}}else o==null&&t.__v==n.__v?(t.__k=n.__k,t.__e=n.__e):c=t.__e=Vn(n.__e,t,n,r,s,o,i,l,u);return(p=k.diffed)&&p(t),128&t.__u?void 0:c}function Ct(e){e&&(e.__c&&(e.__c.__e=!0),e.__k&&e.__k.some(Ct))}function It(e,t,n){for(var r=0;r<n.length;r++)Ye(n[r],n[++r],n[++r]);k.__c&&k.__c(t,e),e.some(function(s){try{e=s.__h,s.__h=[],e.some(function(o){o.call(s)})}catch(o){k.__e(o,s.__v)}})}function kt(e){return typeof e!="object"||e==null||e.__b>0?e:Ae(e)?e.map(kt):e.constructor!==void 0?null:X({},e)}function Vn(e,t,n,r,s,o,i,c,l){var u,p,f,a,m,v,_,g=n.props||Ce,h=t.props,y=t.type;if(y=="svg"?s="http://www.w3.org/2000/svg":y=="math"?s="http://www.w3.org/1998/Math/MathML":s||(s="http://www.w3.org/1999/xhtml"),o!=null){for(u=0;u<o.length;u++)if((m=o[u])&&"setAttribute"in m==!!y&&(y?m.localName==y:m.nodeType==3)){e=m,o[u]=null;break}}if(e==null){if(y==null)return document.createTextNode(h);e=document.createElementNS(s,y,h.is&&h),c&&(k.__m&&k.__m(t,o),c=!1),o=null}if(y==null)g===h||c&&e.data==h||(e.data=h);else{if(o=y=="textarea"&&h.defaultValue!=null?null:o&&Ne.call(e.childNodes),!c&&o!=null)for(g={},u=0;u<e.attributes.length;u++)g[(m=e.attributes[u]).name]=m.value;for(u in g)m=g[u],u=="dangerouslySetInnerHTML"?f=m:u=="children"||u in h||u=="value"&&"defaultValue"in h||u=="checked"&&"defaultChecked"in h||Ee(e,u,null,m,s);for(u in h)m=h[u],u=="children"?a=m:u=="dangerouslySetInnerHTML"?p=m:u=="value"?v=m:u=="checked"?_=m:c&&typeof m!="function"||g[u]===m||Ee(e,u,m,g[u],s);if(p)c||f&&(p.__html==f.__html||p.__html==e.innerHTML)||(e.innerHTML=p.__html),t.__k=[];else if(f&&(e.innerHTML=""),St(t.type=="template"?e.content:e,Ae(a)?a:[a],t,n,r,y=="foreignObject"?"http://www.w3.org/1999/xhtml":s,o,i,o?o[0]:n.__k&&re(n,0),c,l),o!=null)for(u=o.length;u--;)Qe(o[u]);c&&y!="textarea"||(u="value",y=="progress"&&v==null?e.removeAttribute("value"):v!=null&&(v!==e[u]||y=="progress"&&!v||y=="option"&&v!=g[u])&&Ee(e,u,v,g[u],s),u="checked",_!=null&&_!=e[u]&&Ee(e,u,_,g[u],s))}return e}function Ye(e,t,n){try{if(typeof e=="function"){var r=typeof e.__u=="function";r&&e.__u(),r&&t==null||(e.__u=e(t))}else e.current=t}catch(s){k.__e(s,n)}}function Nt(e,t,n){var r,s;if(k.unmount&&k.unmount(e),(r=e.ref)&&(r.current&&r.current!=e.__e||Ye(r,null,t)),(r=e.__c)!=null){if(r.componentWillUnmount)try{r.componentWillUnmount()}catch(o){k.__e(o,t)}r.base=r.__P=r.__n=null}if(r=e.__k)for(s=0;s<r.length;s++)r[s]&&Nt(r[s],t,n||typeof e.type!="function");n||Qe(e.__e),e.__c=e.__=e.__e=void 0}function qn(e,t,n){return this.constructor(e,n)}function At(e,t,n){var r,s,o,i;t==document&&(t=document.documentElement),k.__&&k.__(e,t),s=(r=typeof n=="function")?null:n&&n.__k||t.__k,o=[],i=[],ze(t,e=(!r&&n||t).__k=Ke(Oe,null,[e]),s||Ce,Ce,t.namespaceURI,!r&&n?[n]:s?null:t.firstChild?Ne.call(t.childNodes):null,o,!r&&n?n:s?s.__e:t.firstChild,r,i),It(o,e,i),e.props.children=null}function Ot(e){function t(n){var r,s;return this.getChildContext||(r=new Set,(s={})[t.__c]=this,this.getChildContext=function(){return s},this.componentWillUnmount=function(){r=null},this.shouldComponentUpdate=function(o){this.props.value!=o.value&&r.forEach(function(i){i.__e=!0,Je(i)})},this.sub=function(o){r.add(o);var i=o.componentWillUnmount;o.componentWillUnmount=function(){r&&r.delete(o),i&&i.call(o)}}),n.children}return t.__c="__cC"+Et++,t.__=e,t.Provider=t.__l=(t.Consumer=function(n,r){return n.children(r)}).contextType=t,t}Ne=Ie.slice,k={__e:function(e,t,n,r){for(var s,o,i;t=t.__;)if((s=t.__c)&&!s.__)try{if((o=s.constructor)&&o.getDerivedStateFromError!=null&&(s.setState(o.getDerivedStateFromError(e)),i=s.__d),s.componentDidCatch!=null&&(s.componentDidCatch(e,r||{}),i=s.__d),i)return s.__E=s}catch(c){e=c}throw e}},yt=0,Pn=function(e){return e!=null&&e.constructor===void 0},Te.prototype.setState=function(e,t){var n;n=this.__s!=null&&this.__s!=this.state?this.__s:this.__s=X({},this.state),typeof e=="function"&&(e=e(X({},n),this.props)),e&&X(n,e),e!=null&&this.__v&&(t&&this._sb.push(t),Je(this))},Te.prototype.forceUpdate=function(e){this.__v&&(this.__e=!0,e&&this.__h.push(e),Je(this))},Te.prototype.render=Oe,te=[],bt=typeof Promise=="function"?Promise.prototype.then.bind(Promise.resolve()):setTimeout,vt=function(e,t){return e.__v.__b-t.__v.__b},ke.__r=0,Fe=Math.random().toString(8),we="__d"+Fe,me="__a"+Fe,xt=/(PointerCapture)$|Capture$/i,Ge=0,He=gt(!1),We=gt(!0),Et=0;var le,R,Ze,Rt,fe=0,qt=[],L=k,Mt=L.__b,Pt=L.__r,Ut=L.diffed,Bt=L.__c,Dt=L.unmount,Lt=L.__;function Me(e,t){L.__h&&L.__h(R,e,fe||t),fe=0;var n=R.__H||(R.__H={__:[],__h:[]});return e>=n.__.length&&n.__.push({}),n.__[e]}function b(e){return fe=1,jn(Ht,e)}function jn(e,t,n){var r=Me(le++,2);if(r.t=e,!r.__c&&(r.__=[n?n(t):Ht(void 0,t),function(c){var l=r.__N?r.__N[0]:r.__[0],u=r.t(l,c);l!==u&&(r.__N=[u,r.__[1]],r.__c.setState({}))}],r.__c=R,!R.__f)){var s=function(c,l,u){if(!r.__c.__H)return!0;var p=!1,f=r.__c.props!==c;if(r.__c.__H.__.some(function(m){if(m.__N){p=!0;var v=m.__[0];m.__=m.__N,m.__N=void 0,v!==m.__[0]&&(f=!0)}}),o){var a=o.call(this,c,l,u);return p?a||f:a}return!p||f};R.__f=!0;var o=R.shouldComponentUpdate,i=R.componentWillUpdate;R.componentWillUpdate=function(c,l,u){if(this.__e){var p=o;o=void 0,s(c,l,u),o=p}i&&i.call(this,c,l,u)},R.shouldComponentUpdate=s}return r.__N||r.__}function M(e,t){var n=Me(le++,3);!L.__s&&Ft(n.__H,t)&&(n.__=e,n.u=t,R.__H.__h.push(n))}function z(e){return fe=5,Pe(function(){return{current:e}},[])}function Pe(e,t){var n=Me(le++,7);return Ft(n.__H,t)&&(n.__=e(),n.__H=t,n.__h=e),n.__}function et(e,t){return fe=8,Pe(function(){return e},t)}function jt(e){var t=R.context[e.__c],n=Me(le++,9);return n.c=e,t?(n.__==null&&(n.__=!0,t.sub(R)),t.props.value):e.__}function Fn(){for(var e;e=qt.shift();){var t=e.__H;if(e.__P&&t)try{t.__h.some(Re),t.__h.some(Xe),t.__h=[]}catch(n){t.__h=[],L.__e(n,e.__v)}}}L.__b=function(e){R=null,Mt&&Mt(e)},L.__=function(e,t){e&&t.__k&&t.__k.__m&&(e.__m=t.__k.__m),Lt&&Lt(e,t)},L.__r=function(e){Pt&&Pt(e),le=0;var t=(R=e.__c).__H;t&&(Ze===R?(t.__h=[],R.__h=[],t.__.some(function(n){n.__N&&(n.__=n.__N),n.u=n.__N=void 0})):(t.__h.some(Re),t.__h.some(Xe),t.__h=[],le=0)),Ze=R},L.diffed=function(e){Ut&&Ut(e);var t=e.__c;t&&t.__H&&(t.__H.__h.length&&(qt.push(t)!==1&&Rt===L.requestAnimationFrame||((Rt=L.requestAnimationFrame)||Hn)(Fn)),t.__H.__.some(function(n){n.u&&(n.__H=n.u,n.u=void 0)})),Ze=R=null},L.__c=function(e,t){t.some(function(n){try{n.__h.some(Re),n.__h=n.__h.filter(function(r){return!r.__||Xe(r)})}catch(r){t.some(function(s){s.__h&&(s.__h=[])}),t=[],L.__e(r,n.__v)}}),Bt&&Bt(e,t)},L.unmount=function(e){Dt&&Dt(e);var t,n=e.__c;n&&n.__H&&(n.__H.__.some(function(r){try{Re(r)}catch(s){t=s}}),n.__H=void 0,t&&L.__e(t,n.__v))};var Vt=typeof requestAnimationFrame=="function";function Hn(e){var t,n=function(){clearTimeout(r),Vt&&cancelAnimationFrame(t),setTimeout(e)},r=setTimeout(n,35);Vt&&(t=requestAnimationFrame(n))}function Re(e){var t=R,n=e.__c;typeof n=="function"&&(e.__c=void 0,n()),R=t}function Xe(e){var t=R;e.__c=e.__(),R=t}function Ft(e,t){return!e||e.length!==t.length||t.some(function(n,r){return n!==e[r]})}function Ht(e,t){return typeof t=="function"?t(e):t}var Jt=function(e,t,n,r){var s;t[0]=0;for(var o=1;o<t.length;o++){var i=t[o++],c=t[o]?(t[0]|=i?1:2,n[t[o++]]):t[++o];i===3?r[0]=c:i===4?r[1]=Object.assign(r[1]||{},c):i===5?(r[1]=r[1]||{})[t[++o]]=c:i===6?r[1][t[++o]]+=c+"":i?(s=e.apply(c,Jt(e,c,n,["",null])),r.push(s),c[0]?t[0]|=2:(t[o-2]=0,t[o]=s)):r.push(c)}return r},Wt=new Map;function Gt(e){var t=Wt.get(this);return t||(t=new Map,Wt.set(this,t)),(t=Jt(this,t.get(e)||(t.set(e,t=(function(n){for(var r,s,o=1,i="",c="",l=[0],u=function(a){o===1&&(a||(i=i.replace(/^\s*\n\s*|\s*\n\s*$/g,"")))?l.push(0,a,i):o===3&&(a||i)?(l.push(3,a,i),o=2):o===2&&i==="..."&&a?l.push(4,a,0):o===2&&i&&!a?l.push(5,0,!0,i):o>=5&&((i||!a&&o===5)&&(l.push(o,0,i,s),o=6),a&&(l.push(o,a,0,s),o=6)),i=""},p=0;p<n.length;p++){p&&(o===1&&u(),u(p));for(var f=0;f<n[p].length;f++)r=n[p][f],o===1?r==="<"?(u(),l=[l],o=3):i+=r:o===4?i==="--"&&r===">"?(o=1,i=""):i=r+i[0]:c?r===c?c="":i+=r:r==='"'||r==="'"?c=r:r===">"?(u(),o=1):o&&(r==="="?(o=5,s=i,i=""):r==="/"&&(o<5||n[p][f+1]===">")?(u(),o===3&&(l=l[0]),o=l,(l=l[0]).push(2,0,o),o=0):r===" "||r==="	"||r===`
`||r==="\r"?(u(),o=2):i+=r),o===3&&i==="!--"&&(o=4,l=l[0])}return u(),l})(e)),t),arguments,[])).length>1?t:t[0]}var d=Gt.bind(Ke),tt=new Set;setInterval(()=>tt.forEach(e=>e(Date.now())),1e3);function Wn(){let[e,t]=b(Date.now());return M(()=>(tt.add(t),()=>tt.delete(t)),[]),e}function Ue(e){if(!e)return"\u2014";let t=new Date(e);return Number.isNaN(t.getTime())?String(e):t.toISOString().replace("T"," ").replace(/\.\d+Z$/,"Z")}function Qt(e){let t=Math.max(0,Math.round(e/1e3)),n=Math.floor(t/86400),r=Math.floor(t%86400/3600),s=Math.floor(t%3600/60),o=t%60;return n?`${n}d ${r}h`:r?`${r}h ${s}m`:s?`${s}m ${o}s`:`${o}s`}function q({at:e}){return d`<time datetime=${e||""}>${Ue(e)}</time>`}function ne({at:e,never:t="never"}){let n=Wn();if(!e)return d`<span class="muted">${t}</span>`;let r=new Date(e).getTime()-n;return d`<time class=${r<=0?"countdown expired":r<6e4?"countdown soon":"countdown"}
      datetime=${e} title=${Ue(e)}>
    ${r<=0?`expired ${Qt(-r)} ago`:`in ${Qt(r)}`}
  </time>`}var Jn=160;function _e({value:e}){let t=JSON.stringify(e,null,2)??"null",n=t.split(`
`).length;if(t.length<=Jn&&n<=6)return d`<pre class="json">${t}</pre>`;let r=JSON.stringify(e).slice(0,60);return d`<details class="json-long">
    <summary><code>${r}…</code> <span class="muted">(${t.length} characters, ${n} lines)</span></summary>
    <pre class="json" tabindex="0">${t}</pre>
  </details>`}function Kt(e,t=80){let n=JSON.stringify(e)??"null";return n.length>t?n.slice(0,t-1)+"\u2026":n}function Y(e,t){let[n,r]=b({data:null,error:null,loading:!0}),s=z(0),o=et(()=>{let c=++s.current;return r(l=>({...l,loading:!0})),e().then(l=>c===s.current&&r({data:l,error:null,loading:!1}),l=>c===s.current&&r(u=>({...u,error:l,loading:!1})))},t);M(()=>{r({data:null,error:null,loading:!0}),o()},[o]);let i=et(c=>r(l=>({...l,data:typeof c=="function"?c(l.data):c})),[]);return{...n,reload:o,set:i}}function ce(){let[e,t]=b([null]);return{after:e[e.length-1],page:e.length,next:r=>t(s=>[...s,r]),previous:()=>t(r=>r.length>1?r.slice(0,-1):r),reset:()=>t([null])}}function de({pager:e,pageInfo:t,total:n,label:r}){return t?d`<nav class="pager" aria-label=${`${r} pages`}>
    <button type="button" onClick=${e.previous} disabled=${e.page===1}>← Previous</button>
    <span>Page ${e.page}${n!=null?` \xB7 ${n} in all`:""}</span>
    <button type="button" onClick=${()=>e.next(t.endCursor)} disabled=${!t.hasNextPage}>Next →</button>
  </nav>`:null}function H({error:e,children:t}){return e?d`<div class="error" role="alert">
    <strong>${e.code||"Error"}</strong>: ${e.message}${t}
  </div>`:null}function Z({what:e}){return d`<p class="muted" role="status">Loading ${e}…</p>`}function zt(e,t){let n=new URLSearchParams;return n.set("query",e),t&&Object.keys(t).length&&n.set("variables",JSON.stringify(t,null,2)),"/graphiql#"+n.toString()}function J(e){return e===null?"null":Array.isArray(e)?"array":typeof e}function oe(e){return J(e)==="object"}function Gn(e){return Array.isArray(e)&&e.length>0&&e.every(t=>"message"in t)}function nt(e,t){return e.length<124?e:t}var Yt="graphql-transport-ws";var Q=(e=>(e[e.InternalServerError=4500]="InternalServerError",e[e.InternalClientError=4005]="InternalClientError",e[e.BadRequest=4400]="BadRequest",e[e.BadResponse=4004]="BadResponse",e[e.Unauthorized=4401]="Unauthorized",e[e.Forbidden=4403]="Forbidden",e[e.SubprotocolNotAcceptable=4406]="SubprotocolNotAcceptable",e[e.ConnectionInitialisationTimeout=4408]="ConnectionInitialisationTimeout",e[e.ConnectionAcknowledgementTimeout=4504]="ConnectionAcknowledgementTimeout",e[e.SubscriberAlreadyExists=4409]="SubscriberAlreadyExists",e[e.TooManyInitialisationRequests=4429]="TooManyInitialisationRequests",e))(Q||{}),K=(e=>(e.ConnectionInit="connection_init",e.ConnectionAck="connection_ack",e.Ping="ping",e.Pong="pong",e.Subscribe="subscribe",e.Next="next",e.Error="error",e.Complete="complete",e))(K||{});function Zt(e){if(!oe(e))throw new Error(`Message is expected to be an object, but got ${J(e)}`);if(!e.type)throw new Error("Message is missing the 'type' property");if(typeof e.type!="string")throw new Error(`Message is expects the 'type' property to be a string, but got ${J(e.type)}`);switch(e.type){case"connection_init":case"connection_ack":case"ping":case"pong":{if(e.payload!=null&&!oe(e.payload))throw new Error(`"${e.type}" message expects the 'payload' property to be an object or nullish or missing, but got "${e.payload}"`);break}case"subscribe":{if(typeof e.id!="string")throw new Error(`"${e.type}" message expects the 'id' property to be a string, but got ${J(e.id)}`);if(!e.id)throw new Error(`"${e.type}" message requires a non-empty 'id' property`);if(!oe(e.payload))throw new Error(`"${e.type}" message expects the 'payload' property to be an object, but got ${J(e.payload)}`);if(typeof e.payload.query!="string")throw new Error(`"${e.type}" message payload expects the 'query' property to be a string, but got ${J(e.payload.query)}`);if(e.payload.variables!=null&&!oe(e.payload.variables))throw new Error(`"${e.type}" message payload expects the 'variables' property to be a an object or nullish or missing, but got ${J(e.payload.variables)}`);if(e.payload.operationName!=null&&J(e.payload.operationName)!=="string")throw new Error(`"${e.type}" message payload expects the 'operationName' property to be a string or nullish or missing, but got ${J(e.payload.operationName)}`);if(e.payload.extensions!=null&&!oe(e.payload.extensions))throw new Error(`"${e.type}" message payload expects the 'extensions' property to be a an object or nullish or missing, but got ${J(e.payload.extensions)}`);break}case"next":{if(typeof e.id!="string")throw new Error(`"${e.type}" message expects the 'id' property to be a string, but got ${J(e.id)}`);if(!e.id)throw new Error(`"${e.type}" message requires a non-empty 'id' property`);if(!oe(e.payload))throw new Error(`"${e.type}" message expects the 'payload' property to be an object, but got ${J(e.payload)}`);break}case"error":{if(typeof e.id!="string")throw new Error(`"${e.type}" message expects the 'id' property to be a string, but got ${J(e.id)}`);if(!e.id)throw new Error(`"${e.type}" message requires a non-empty 'id' property`);if(!Gn(e.payload))throw new Error(`"${e.type}" message expects the 'payload' property to be an array of GraphQL errors, but got ${JSON.stringify(e.payload)}`);break}case"complete":{if(typeof e.id!="string")throw new Error(`"${e.type}" message expects the 'id' property to be a string, but got ${J(e.id)}`);if(!e.id)throw new Error(`"${e.type}" message requires a non-empty 'id' property`);break}default:throw new Error(`Invalid message 'type' property "${e.type}"`)}return e}function Xt(e,t){return Zt(typeof e=="string"?JSON.parse(e,t):e)}function ue(e,t){return Zt(e),JSON.stringify(e,t)}function rt(e){let{url:t,connectionParams:n,lazy:r=!0,onNonLazyError:s=console.error,lazyCloseTimeout:o=0,keepAlive:i=0,disablePong:c,connectionAckWaitTimeout:l=0,retryAttempts:u=5,retryWait:p=async function(O){let S=Math.pow(2,O);await new Promise(C=>setTimeout(C,S*1e3+Math.floor(Math.random()*2700+300)))},shouldRetry:f=ot,on:a,webSocketImpl:m,generateID:v=function(){return"xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx".replace(/[xy]/g,O=>{let S=Math.random()*16|0;return(O=="x"?S:S&3|8).toString(16)})},jsonMessageReplacer:_,jsonMessageReviver:g}=e,h;if(m){if(!Kn(m))throw new Error("Invalid WebSocket implementation provided");h=m}else typeof WebSocket<"u"?h=WebSocket:typeof global<"u"?h=global.WebSocket||global.MozWebSocket:typeof window<"u"&&(h=window.WebSocket||window.MozWebSocket);if(!h)throw new Error("WebSocket implementation missing; on Node you can `import WebSocket from 'ws';` and pass `webSocketImpl: WebSocket` to `createClient`");let y=h,$=(()=>{let T=(()=>{let S={};return{on(C,D){return S[C]=D,()=>{delete S[C]}},emit(C){"id"in C&&S[C.id]?.(C)}}})(),O={connecting:a?.connecting?[a.connecting]:[],opened:a?.opened?[a.opened]:[],connected:a?.connected?[a.connected]:[],ping:a?.ping?[a.ping]:[],pong:a?.pong?[a.pong]:[],message:a?.message?[T.emit,a.message]:[T.emit],closed:a?.closed?[a.closed]:[],error:a?.error?[a.error]:[]};return{onMessage:T.on,on(S,C){let D=O[S];return D.push(C),()=>{D.splice(D.indexOf(C),1)}},emit(S,...C){for(let D of[...O[S]])D(...C)}}})();function P(T){let O=[$.on("error",S=>{O.forEach(C=>C()),T(S)}),$.on("closed",S=>{O.forEach(C=>C()),T(S)})]}let A,B=0,U,x=!1,E=0,w=!1;async function V(){clearTimeout(U);let[T,O]=await(A??(A=new Promise((D,W)=>(async()=>{if(x){if(await p(E),!B)return A=void 0,W({code:1e3,reason:"All Subscriptions Gone"});E++}$.emit("connecting",x);let I=new y(typeof t=="function"?await t():t,Yt),se,pe;function xe(){isFinite(i)&&i>0&&(clearTimeout(pe),pe=setTimeout(()=>{I.readyState===y.OPEN&&(I.send(ue({type:K.Ping})),$.emit("ping",!1,void 0))},i))}P(F=>{A=void 0,clearTimeout(se),clearTimeout(pe),W(F),F instanceof he&&(I.close(4499,"Terminated"),I.onerror=null,I.onclose=null)}),I.onerror=F=>$.emit("error",F),I.onclose=F=>$.emit("closed",F),I.onopen=async()=>{try{$.emit("opened",I);let F=typeof n=="function"?await n():n;if(I.readyState!==y.OPEN)return;I.send(ue(F?{type:K.ConnectionInit,payload:F}:{type:K.ConnectionInit},_)),isFinite(l)&&l>0&&(se=setTimeout(()=>{I.close(Q.ConnectionAcknowledgementTimeout,"Connection acknowledgement timeout")},l)),xe()}catch(F){$.emit("error",F),I.close(Q.InternalClientError,nt(F instanceof Error?F.message:String(F),"Internal client error"))}};let ae=!1;I.onmessage=({data:F})=>{try{let j=Xt(F,g);if($.emit("message",j),j.type==="ping"||j.type==="pong"){$.emit(j.type,!0,j.payload),j.type==="pong"?xe():c||(I.send(ue(j.payload?{type:K.Pong,payload:j.payload}:{type:K.Pong})),$.emit("pong",!1,j.payload));return}if(ae)return;if(j.type!==K.ConnectionAck)throw new Error(`First message cannot be of type ${j.type}`);clearTimeout(se),ae=!0,$.emit("connected",I,j.payload,x),x=!1,E=0,D([I,new Promise((po,On)=>P(On))])}catch(j){I.onmessage=null,$.emit("error",j),I.close(Q.BadResponse,nt(j instanceof Error?j.message:String(j),"Bad response"))}}})())));T.readyState===y.CLOSING&&await O;let S=()=>{},C=new Promise(D=>S=D);return[T,S,Promise.race([C.then(()=>{if(!B){let D=()=>T.close(1e3,"Normal Closure");isFinite(o)&&o>0?U=setTimeout(()=>{T.readyState===y.OPEN&&D()},o):D()}}),O])]}function ft(T){if(ot(T)&&(Qn(T.code)||[Q.InternalServerError,Q.InternalClientError,Q.BadRequest,Q.BadResponse,Q.Unauthorized,Q.SubprotocolNotAcceptable,Q.SubscriberAlreadyExists,Q.TooManyInitialisationRequests].includes(T.code)))throw T;if(w)return!1;if(ot(T)&&T.code===1e3)return B>0;if(!u||E>=u||!f(T))throw T;return x=!0}r||(async()=>{for(B++;;)try{let[,,T]=await V();await T}catch(T){try{if(!ft(T))return}catch(O){return s?.(O)}}})();function _t(T,O){let S=v(T),C=!1,D=!1,W=()=>{B--,C=!0};return(async()=>{for(B++;;)try{let[I,se,pe]=await V();if(C)return se();let xe=$.onMessage(S,ae=>{switch(ae.type){case K.Next:{O.next(ae.payload);return}case K.Error:{D=!0,C=!0,O.error(ae.payload),W();return}case K.Complete:{C=!0,W();return}}});I.send(ue({id:S,type:K.Subscribe,payload:T},_)),W=()=>{!C&&I.readyState===y.OPEN&&I.send(ue({id:S,type:K.Complete},_)),B--,C=!0,se()},await pe.finally(xe);return}catch(I){if(!ft(I))return}})().then(()=>{D||O.complete()}).catch(I=>{O.error(I)}),()=>{C||W()}}return{on:$.on,subscribe:_t,iterate(T){let O=[],S={done:!1,error:null,resolve:()=>{}},C=_t(T,{next(W){O.push(W),S.resolve()},error(W){S.done=!0,S.error=W,S.resolve()},complete(){S.done=!0,S.resolve()}}),D=(async function*(){for(;;){for(O.length||await new Promise(I=>S.resolve=I);O.length;)yield O.shift();if(S.error)throw S.error;if(S.done)return}})();return D.throw=async W=>(S.done||(S.done=!0,S.error=W,S.resolve()),{done:!0,value:void 0}),D.return=async()=>(C(),{done:!0,value:void 0}),D},async dispose(){if(w=!0,A){let[T]=await A;T.close(1e3,"Normal Closure")}},terminate(){A&&$.emit("closed",new he)}}}var he=class extends Error{constructor(){super(...arguments);ie(this,"name","TerminatedCloseEvent");ie(this,"message","4499: Terminated");ie(this,"code",4499);ie(this,"reason","Terminated");ie(this,"wasClean",!1)}};function ot(e){return oe(e)&&"code"in e&&"reason"in e}function Qn(e){return[1e3,1001,1006,1005,1012,1013,1014].includes(e)?!1:e>=1e3&&e<=1999}function Kn(e){return typeof e=="function"&&"constructor"in e&&"CLOSED"in e&&"CLOSING"in e&&"CONNECTING"in e&&"OPEN"in e}var $e=class extends Error{constructor(t){super(t.map(n=>n.message).join("; ")),this.errors=t,this.code=t[0]?.extensions?.code||"ERROR"}};async function N(e,t,n={}){let r;try{r=await fetch("/graphql",{method:"POST",headers:{"content-type":"application/json",accept:"application/graphql-response+json, application/json;q=0.9",authorization:`Bearer ${e}`},body:JSON.stringify({query:t,variables:n})})}catch(o){throw new $e([{message:`the server cannot be reached (${o.message})`,extensions:{code:"NETWORK"}}])}let s;try{s=await r.json()}catch{throw new $e([{message:`HTTP ${r.status} without a GraphQL body`,extensions:{code:"HTTP"}}])}if(s.errors?.length)throw new $e(s.errors);return s.data}function en(e,t){let n=location.protocol==="https:"?"wss:":"ws:";return rt({url:`${n}//${location.host}/graphql/ws`,connectionParams:{Authorization:`Bearer ${e}`},lazy:!1,onNonLazyError:()=>t("closed",!1),retryAttempts:1/0,shouldRetry:r=>r?.code!==4403,retryWait:r=>new Promise(s=>setTimeout(s,Math.min(500*2**r,1e4))),on:{connecting:r=>t(r?"reconnecting":"connecting",r),connected:(r,s,o)=>t("live",o),closed:()=>t("closed",!1)}})}function tn(e,t,n,r,s){let o=!1,i=null,c=e.subscribe({query:t,variables:n},{next:l=>{l.errors?.length&&(i=l.errors),l.data&&r(l.data)},error:l=>{o||(o=!0,s(Array.isArray(l)?l:[{message:l?.reason||l?.message||"the connection failed",extensions:{code:"NETWORK"}}]))},complete:()=>{o||(o=!0,s(i))}});return()=>{o=!0,c()}}var nn=e=>e?.[0]?.extensions?.code||null;var ge=`fragment MemoryFields on Memory {
  scope
  ownerId
  version
  variables { name value version expiresAt createdAt updatedAt }
}`,st=`query Viewer {
  viewer { subject roles bots tenant { id janitorSchedule maxValueBytes createdAt } }
}`,at=`query Bots($first: Int, $after: String) {
  bots(first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node { id name sessionTimeout lastMessagesKept createdAt } }
  }
}`,it=`query Bot($id: UUID!) {
  bot(id: $id) {
    id name sessionTimeout lastMessagesKept createdAt updatedAt
    retentionPolicies { name ttl scopes }
    promotion { mode names }
    memory { ...MemoryFields }
  }
}
${ge}`,on=`query BotUsers($id: UUID!, $first: Int, $after: String, $externalId: String) {
  bot(id: $id) {
    users(first: $first, after: $after, externalId: $externalId) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { node { id channel externalId firstName lastName createdAt } }
    }
  }
}`,rn=`query BotConversations($id: UUID!, $first: Int, $after: String, $status: ConversationStatus) {
  bot(id: $id) {
    conversations(first: $first, after: $after, status: $status) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { node { id status channel startedAt lastActivityAt expiresAt user { id externalId } } }
    }
  }
}`,sn=`id botId status endReason channel culture debug channelProvider isProxy
    startedAt lastActivityAt expiresAt endedAt
    user { id externalId firstName lastName channel }
    messages(last: 10) { id direction text payload at }`,lt=`query Conversation($id: UUID!) {
  conversation(id: $id) {
    ${sn}
    memory { ...MemoryFields }
    temp { ...MemoryFields }
    user { memory { ...MemoryFields } }
  }
}
${ge}`,an=`query ConversationState($id: UUID!) {
  conversation(id: $id) {
    ${sn}
  }
}`,Be=`query BotMemory($id: UUID!) {
  bot(id: $id) { id name memory { ...MemoryFields } }
}
${ge}`,ct=`query User($id: UUID!) {
  user(id: $id) {
    id botId channel externalId firstName lastName avatarUrl locale createdAt
    memory { ...MemoryFields }
    active: conversations(first: 1, status: ACTIVE) {
      totalCount
      edges { node { id memory { ...MemoryFields } temp { ...MemoryFields } } }
    }
  }
}
${ge}`,ln=`query UserConversations($id: UUID!, $first: Int, $after: String, $status: ConversationStatus) {
  user(id: $id) {
    conversations(first: $first, after: $after, status: $status) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { node { id status channel startedAt lastActivityAt expiresAt } }
    }
  }
}`,cn=`query Memory($ref: MemoryRef!) {
  memory(ref: $ref) { ...MemoryFields }
}
${ge}`,dn=`query Variable($ref: MemoryRef!, $name: String!) {
  variable(ref: $ref, name: $name) { name value version expiresAt updatedAt }
}`,un=`mutation SetVariable($input: SetVariableInput!) {
  setVariable(input: $input) { name value version expiresAt createdAt updatedAt }
}`,pn=`mutation UnsetVariable($ref: MemoryRef!, $name: String!, $expectedVersion: Int) {
  unsetVariable(ref: $ref, name: $name, expectedVersion: $expectedVersion)
}`,mn=`mutation EndConversation($id: UUID!, $reason: EndReason) {
  endConversation(id: $id, reason: $reason) { id status endReason endedAt }
}`,fn=`mutation UpdateBot($id: UUID!, $input: UpdateBotInput!) {
  updateBot(id: $id, input: $input) {
    id name sessionTimeout lastMessagesKept updatedAt
    retentionPolicies { name ttl scopes }
    promotion { mode names }
  }
}`,dt=`query Tenant($first: Int, $after: String) {
  viewer { tenant { id janitorSchedule maxValueBytes createdAt } }
  janitorRuns(first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node { id trigger startedAt finishedAt variablesExpired kvEntriesExpired conversationsExpired messagesTrimmed error } }
  }
}`,_n=`mutation UpdateTenantSettings($input: TenantSettingsInput!) {
  updateTenantSettings(input: $input) { id janitorSchedule maxValueBytes createdAt }
}`,hn=`mutation RunJanitor {
  runJanitor { id trigger startedAt finishedAt variablesExpired kvEntriesExpired conversationsExpired messagesTrimmed error }
}`,ee=`subscription MemoryChanged($botId: UUID!, $scope: MemoryScope, $ownerId: UUID) {
  memoryChanged(botId: $botId, scope: $scope, ownerId: $ownerId) {
    op botId scope ownerId name value version memoryVersion at
  }
}`,De=`subscription ConversationChanged($botId: UUID!) {
  conversationChanged(botId: $botId) {
    eventKind at
    conversation { id status endReason lastActivityAt expiresAt endedAt }
  }
}`;var Le=Ot(null),G=()=>jt(Le);function ye(e,t,n,r){let s=G(),o=z({onEvent:t,resync:n});o.current={onEvent:t,resync:n};let[i,c]=b(0);M(()=>{if(!s.live)return;let u=e.filter(Boolean).map(p=>tn(s.live,p.query,p.variables,f=>o.current.onEvent(f),f=>{let a=nn(f);a==="SUBSCRIPTION_LAGGED"?(s.notify("Live updates fell behind the server: the data was re-read."),o.current.resync(),c(m=>m+1)):f?s.notify(`Live updates stopped: ${a||"error"}: ${f[0]?.message??""}`,"error"):setTimeout(()=>c(m=>m+1),1e3)}));return()=>u.forEach(p=>p())},[s.live,r,i]);let l=z(s.reconnects);M(()=>{s.reconnects!==l.current&&(l.current=s.reconnects,o.current.resync(),s.notify("Reconnected to live updates: the data was re-read."))},[s.reconnects])}function be(){let[e,t]=b({});return[e,(r,s)=>t(o=>{let i=o[r]||{};return{...o,[r]:{...i,[s]:(i[s]||0)+1}}})]}var zn={CONVERSATION:"Conversation (short-term)",TEMP:"Temp (current flow)",USER:"User (long-term)",BOT:"Bot"};function ve({token:e,memory:t,memRef:n,canEdit:r,readOnlyReason:s,flash:o={},onWritten:i,owner:c}){let[l,u]=b(!1),p=n.scope,f=zn[p],a=`memory-${p.toLowerCase()}`,m=r&&!s;return d`<section class="memory" aria-labelledby=${a} data-scope=${p}>
    <header class="memory-head">
      <h3 id=${a}>${f}</h3>
      <span class="badge" title="The memory's version: grows with every change">v${t?t.version:"\u2014"}</span>
    </header>
    ${c&&d`<p class="owner">${c}</p>`}
    ${t?t.variables.length===0?d`<p class="muted empty">No variables.</p>`:d`<ul class="variables">
            ${t.variables.map(v=>d`<${Yn}
                key=${v.name}
                token=${e} variable=${v} memRef=${n} editable=${m}
                flash=${o[v.name]||0} onWritten=${i} />`)}
          </ul>`:d`<p class="muted">Not loaded.</p>`}
    ${r&&s&&d`<p class="muted">${s}</p>`}
    ${m&&(l?d`<${yn} token=${e} memRef=${n} current=${null}
          onDone=${v=>{u(!1),v&&i?.()}} />`:d`<button type="button" class="add" onClick=${()=>u(!0)}>Set variable…</button>`)}
  </section>`}function Yn({token:e,variable:t,memRef:n,editable:r,flash:s,onWritten:o}){let[i,c]=b(null);return d`<li class="variable" data-name=${t.name} data-flash=${s}>
    ${s>0&&d`<span class="flash" key=${s} aria-hidden="true"></span>`}
    <div class="variable-head">
      <code class="name">${t.name}</code>
      <span class="badge" title="The variable's version">v${t.version}</span>
    </div>
    <${_e} value=${t.value} />
    <p class="meta">
      updated <${q} at=${t.updatedAt} /> · expires <${ne} at=${t.expiresAt} />
    </p>
    ${r&&i===null&&d`<div class="actions">
      <button type="button" onClick=${()=>c("edit")} aria-label=${`Edit ${t.name}`}>Edit</button>
      <button type="button" onClick=${()=>c("unset")} aria-label=${`Unset ${t.name}`}>Unset</button>
    </div>`}
    ${i==="edit"&&d`<${yn} token=${e} memRef=${n} current=${t}
      onDone=${l=>{c(null),l&&o?.()}} />`}
    ${i==="unset"&&d`<${Xn} token=${e} memRef=${n} variable=${t}
      onDone=${l=>{c(null),l&&o?.()}} />`}
  </li>`}async function $n(e,t,n){try{return(await N(e,dn,{ref:t,name:n})).variable}catch{return}}function gn({name:e,expected:t,current:n}){return d`<div class="error conflict" role="alert">
    <strong>Conflict: not saved.</strong>
    ${" "}<code>${e}</code> changed since you read it: you expected
    ${t===0?" it not to exist":` version ${t}`},
    ${n===void 0?" and it could not be read again.":n===null?" and it no longer exists.":d` and it is now at version ${n.version} with this value:
            <${_e} value=${n.value} />`}
    <p>Check the value above; saving again now writes over ${n?`version ${n.version}`:"it"}.</p>
  </div>`}var Zn=0;function yn({token:e,memRef:t,current:n,onDone:r}){let[s]=b(()=>`editor-${++Zn}`),[o,i]=b(n?.name??""),[c,l]=b(n?JSON.stringify(n.value,null,2):""),[u,p]=b(""),[f,a]=b(n?n.version:0),[m,v]=b(null),[_,g]=b(null),[h,y]=b(!1),$,P=null;if(c.trim()==="")P='Enter a JSON value, e.g. "text", 42, true, null, [1, 2] or {"a": 1}.';else try{$=JSON.parse(c)}catch(U){P=`Not valid JSON: ${U.message}`}let A=o.trim()===""?"Enter a name.":null;async function B(U){if(U.preventDefault(),P||A)return;y(!0),v(null);let x={ref:t,name:o.trim(),value:$,expectedVersion:f};u.trim()&&(x.expiresIn=u.trim());try{await N(e,un,{input:x}),r(!0)}catch(E){if(E.code==="CONFLICT"){let w=await $n(e,t,x.name);g({expected:f,current:w}),w!==void 0&&a(w?w.version:0)}else v(E);y(!1)}}return d`<form class="editor" onSubmit=${B} aria-label=${n?`Edit ${n.name}`:"Set a variable"}>
    ${!n&&d`<label for=${s+"-name"}>Name</label>
      <input id=${s+"-name"} name="name" value=${o} autocomplete="off" required
        onInput=${U=>i(U.currentTarget.value)} />`}
    <label for=${s+"-value"}>Value (JSON)</label>
    <textarea id=${s+"-value"} name="value" rows=${Math.min(12,Math.max(3,c.split(`
`).length))}
      spellcheck="false" aria-invalid=${P?"true":"false"} aria-describedby=${s+"-value-help"}
      onInput=${U=>l(U.currentTarget.value)} value=${c}></textarea>
    <p id=${s+"-value-help"} class=${P?"field-error":"field-ok"}>${P||"Valid JSON."}</p>
    <label for=${s+"-expires"}>Expires in <span class="muted">(optional: 90s, 5m, 2h, P1D)</span></label>
    <input id=${s+"-expires"} name="expiresIn" value=${u} autocomplete="off"
      placeholder="no expiry given" onInput=${U=>p(U.currentTarget.value)} />
    <p class="muted">
      ${f===0?"Saving expects the variable not to exist yet.":`Saving expects version ${f}.`}
    </p>
    ${n&&n.version!==f&&!_&&d`<p class="warning" role="status">It changed to version ${n.version} while you edit: saving will report a conflict.</p>`}
    ${_&&d`<${gn} name=${o} expected=${_.expected} current=${_.current} />`}
    ${m&&d`<div class="error" role="alert"><strong>${m.code}</strong>: ${m.message}</div>`}
    <div class="actions">
      <button type="submit" class="primary" disabled=${h||!!P||!!A}>${h?"Saving\u2026":"Save"}</button>
      <button type="button" onClick=${()=>r(!1)}>Cancel</button>
    </div>
  </form>`}function Xn({token:e,memRef:t,variable:n,onDone:r}){let[s,o]=b(null),[i,c]=b(null),[l,u]=b(n.version);async function p(){o(null);try{await N(e,pn,{ref:t,name:n.name,expectedVersion:l}),r(!0)}catch(f){if(f.code==="CONFLICT"){let a=await $n(e,t,n.name);c({expected:l,current:a}),a&&u(a.version)}else o(f)}}return d`<div class="confirm" role="group" aria-label=${`Unset ${n.name}`}>
    <p>Remove <code>${n.name}</code> (expecting version ${l})?</p>
    ${i&&d`<${gn} name=${n.name} expected=${i.expected} current=${i.current} />`}
    ${s&&d`<div class="error" role="alert"><strong>${s.code}</strong>: ${s.message}</div>`}
    <div class="actions">
      <button type="button" class="danger" onClick=${p}>Confirm unset</button>
      <button type="button" onClick=${()=>r(!1)}>Keep</button>
    </div>
  </div>`}function bn(e,t){if(!e)return e;let n=e.variables.find(s=>s.name===t.name),r=e.variables.filter(s=>s.name!==t.name);return(t.op==="SET"||t.op==="PROMOTED")&&(r=[...r,{name:t.name,value:t.value,version:t.version,expiresAt:n?.expiresAt??null,createdAt:n?.createdAt??t.at,updatedAt:t.at}].sort((s,o)=>s.name<o.name?-1:s.name>o.name?1:0)),{...e,version:Math.max(e.version,t.memoryVersion),variables:r}}function Ve(e=200){let t=z({});return M(()=>()=>Object.values(t.current).forEach(clearTimeout),[]),(n,r)=>{clearTimeout(t.current[n]),t.current[n]=setTimeout(r,e)}}function eo(e,t,n){return N(e,cn,{ref:t}).then(({memory:r})=>n(s=>s[t.scope]&&s[t.scope].version>r.version?s:{...s,[t.scope]:r}),()=>{})}function qe({session:e,setMemories:t,bump:n,debounce:r,refs:s}){return o=>{let i=s[o.scope];i&&(t(c=>({...c,[o.scope]:bn(c[o.scope],o)})),n(o.scope,o.name),e.addLog({at:o.at,kind:o.op,what:`${o.scope.toLowerCase()}.${o.name}`,detail:o.value===null||o.value===void 0?`v${o.version}`:`= ${Kt(o.value)} (v${o.version})`}),r(o.scope,()=>eo(e.token,i,t)))}}function vn({id:e}){let t=G(),{token:n,canEdit:r}=t,s=Y(async()=>{let{conversation:x}=await N(n,lt,{id:e});if(!x)throw Object.assign(new Error(`conversation ${e} not found`),{code:"NOT_FOUND"});let{bot:E}=await N(n,Be,{id:x.botId});return{conversation:x,bot:E}},[e,n]),[o,i]=b(null),[c,l]=b({}),[u,p]=be(),[f,a]=b(0),m=Ve();M(()=>{let x=s.data;if(!x)return;let{memory:E,temp:w,...V}=x.conversation;i(V),l({CONVERSATION:E,TEMP:w,USER:V.user.memory,BOT:x.bot.memory})},[s.data]),M(()=>t.setViewQuery({query:lt,variables:{id:e}}),[e]);let v=o?.botId,_=o?.user.id,g=v?{CONVERSATION:{scope:"CONVERSATION",conversationId:e},TEMP:{scope:"TEMP",conversationId:e},USER:{scope:"USER",userId:_},BOT:{scope:"BOT",botId:v}}:{},h=()=>N(n,an,{id:e}).then(({conversation:x})=>x&&i(E=>({...E,...x,user:{...E.user,...x.user}})),()=>{}),y=qe({session:t,setMemories:l,bump:p,debounce:m,refs:g});if(ye(v?[{query:ee,variables:{botId:v,ownerId:e}},{query:ee,variables:{botId:v,ownerId:_}},{query:ee,variables:{botId:v,scope:"BOT"}},{query:De,variables:{botId:v}}]:[],x=>{x.memoryChanged&&y(x.memoryChanged);let E=x.conversationChanged;E&&E.conversation.id===e&&(i(w=>({...w,...E.conversation})),a(w=>w+1),t.addLog({at:E.at,kind:E.eventKind,what:"conversation",detail:`status ${E.conversation.status}`}),m("state",h))},()=>s.reload(),v?`${v}/${_}/${e}`:null),s.error&&!o)return d`<${H} error=${s.error} />`;if(!o)return d`<${Z} what="the conversation" />`;let $=o,P=$.status!=="ACTIVE",A=P?`This conversation is ${$.status.toLowerCase()}: its memory can no longer change.`:null,B=()=>{m("after-write",()=>s.reload())},U=x=>d`<${ve} token=${n} memory=${c[x]} memRef=${g[x]} canEdit=${r}
      readOnlyReason=${x==="CONVERSATION"||x==="TEMP"?A:null}
      flash=${u[x]} onWritten=${B} />`;return d`<div class="view">
    <nav aria-label="Breadcrumb" class="crumbs">
      <a href="#/">Bots</a>${" \u203A "}<a href=${`#/bot/${$.botId}`}>${s.data?.bot.name??"bot"}</a>${" \u203A "}<a href=${`#/user/${$.user.id}`}>user ${$.user.externalId}</a>${" \u203A "}conversation
    </nav>
    <h1 tabindex="-1">Conversation <code>${$.id}</code></h1>
    <${H} error=${s.error} />
    <div class="columns">
      <section aria-labelledby="conv-state" class="card">
        <h2 id="conv-state">State</h2>
        <dl class="fields">
          <dt>Status</dt>
          <dd><span class=${`status status-${$.status.toLowerCase()}`} data-testid="status" data-flash=${f}>
            ${f>0&&d`<span class="flash" key=${f} aria-hidden="true"></span>`}${$.status}</span>
            ${$.endReason&&d` (${$.endReason})`}</dd>
          <dt>User</dt>
          <dd><a href=${`#/user/${$.user.id}`}>${$.user.externalId}</a>
            ${($.user.firstName||$.user.lastName)&&d` · ${[$.user.firstName,$.user.lastName].filter(Boolean).join(" ")}`}</dd>
          <dt>Channel</dt><dd>${$.channel}${$.channelProvider?` via ${$.channelProvider}`:""}</dd>
          <dt>Culture</dt><dd>${$.culture??"\u2014"}</dd>
          <dt>Debug</dt><dd>${$.debug?"yes":"no"}</dd>
          <dt>Proxy</dt><dd>${$.isProxy?"yes":"no"}</dd>
          <dt>Started</dt><dd><${q} at=${$.startedAt} /></dd>
          <dt>Last activity</dt><dd><${q} at=${$.lastActivityAt} /></dd>
          <dt>Expires</dt><dd>${$.status==="ACTIVE"?d`<${ne} at=${$.expiresAt} />`:"\u2014"}</dd>
          <dt>Ended</dt><dd><${q} at=${$.endedAt} /></dd>
        </dl>
        ${r&&!P&&d`<${to} id=${$.id} onEnded=${()=>s.reload()} />`}
      </section>
      <section aria-labelledby="conv-messages" class="card messages">
        <h2 id="conv-messages">Last messages</h2>
        ${$.messages.length===0?d`<p class="muted">No messages.</p>`:d`<ol class="message-list" tabindex="0" aria-labelledby="conv-messages">
              ${$.messages.map(x=>d`<li key=${x.id} class=${`message ${x.direction.toLowerCase()}`}>
                  <span class="direction">${x.direction==="INCOMING"?"user \u2192":"\u2190 bot"}</span>
                  <${q} at=${x.at} />
                  ${x.text!=null&&d`<p class="text">${x.text}</p>`}
                  ${x.payload!=null&&d`<${_e} value=${x.payload} />`}
                </li>`)}
            </ol>`}
      </section>
    </div>
    <h2 class="section-title">Memory</h2>
    <div class="memories">
      ${U("CONVERSATION")} ${U("TEMP")} ${U("USER")} ${U("BOT")}
    </div>
  </div>`}function to({id:e,onEnded:t}){let{token:n}=G(),[r,s]=b(!1),[o,i]=b("COMPLETED"),[c,l]=b(null);async function u(){l(null);try{await N(n,mn,{id:e,reason:o}),s(!1),t()}catch(p){l(p.code==="CONVERSATION_ENDED"?Object.assign(p,{message:"It had already ended (or timed out) meanwhile; nothing was changed."}):p),t()}}return d`<div class="end">
    ${r?d`<div role="group" aria-label="End the conversation" class="confirm">
          <p>Ending promotes short-term memory into the user's long-term memory per the bot's policy, then clears the conversation and temp memories.</p>
          <label for="end-reason">Reason</label>
          <select id="end-reason" value=${o} onChange=${p=>i(p.currentTarget.value)}>
            <option value="COMPLETED">COMPLETED</option>
            <option value="ABANDONED">ABANDONED</option>
          </select>
          <div class="actions">
            <button type="button" class="danger" onClick=${u}>Confirm end</button>
            <button type="button" onClick=${()=>s(!1)}>Cancel</button>
          </div>
        </div>`:d`<button type="button" class="danger" onClick=${()=>s(!0)}>End conversation…</button>`}
    <${H} error=${c} />
  </div>`}var no=["USER","CONVERSATION","TEMP","BOT"];function xn({bot:e,onSaved:t}){let{token:n}=G(),[r,s]=b(!1),[o,i]=b(null),[c,l]=b(null),[u,p]=b(!1),f=()=>{i({name:e.name,sessionTimeout:e.sessionTimeout,lastMessagesKept:String(e.lastMessagesKept),mode:e.promotion.mode,names:e.promotion.names.join(", "),policies:e.retentionPolicies.map(_=>({..._,scopes:[..._.scopes]}))}),l(null),p(!1),s(!0)};if(!r)return d`<div class="actions">
      <button type="button" onClick=${f}>Change settings…</button>
      ${u&&d`<span role="status" class="ok">Saved.</span>`}
    </div>`;let a=_=>g=>i({...o,[_]:g.currentTarget.value}),m=(_,g)=>i({...o,policies:o.policies.map((h,y)=>y===_?{...h,...g}:h)});async function v(_){_.preventDefault(),l(null);let g={name:o.name.trim(),sessionTimeout:o.sessionTimeout.trim(),lastMessagesKept:Number.parseInt(o.lastMessagesKept,10),promotion:{mode:o.mode,names:o.names.split(",").map(h=>h.trim()).filter(Boolean)},retentionPolicies:o.policies.map(h=>({name:h.name.trim(),ttl:h.ttl.trim(),scopes:h.scopes}))};try{await N(n,fn,{id:e.id,input:g}),s(!1),p(!0),t()}catch(h){l(h)}}return d`<form class="editor settings" onSubmit=${v} aria-label="Bot settings">
    <label for="bot-name">Name</label>
    <input id="bot-name" value=${o.name} onInput=${a("name")} required />
    <label for="bot-timeout">Session timeout <span class="muted">(e.g. 30m, 2h)</span></label>
    <input id="bot-timeout" value=${o.sessionTimeout} onInput=${a("sessionTimeout")} required />
    <label for="bot-kept">Messages kept</label>
    <input id="bot-kept" type="number" min="0" value=${o.lastMessagesKept} onInput=${a("lastMessagesKept")} required />
    <fieldset>
      <legend>Promotion when a conversation ends</legend>
      <label for="bot-promotion">Mode</label>
      <select id="bot-promotion" value=${o.mode} onChange=${a("mode")}>
        <option value="ALL">ALL: every short-term variable</option>
        <option value="NONE">NONE</option>
        <option value="LISTED">LISTED: only the names below</option>
      </select>
      <label for="bot-promotion-names">Names <span class="muted">(comma-separated, for LISTED)</span></label>
      <input id="bot-promotion-names" value=${o.names} onInput=${a("names")} />
    </fieldset>
    <fieldset>
      <legend>Retention policies</legend>
      ${o.policies.length===0&&d`<p class="muted">None.</p>`}
      ${o.policies.map((_,g)=>d`<div class="policy" key=${g} role="group" aria-label=${`Policy ${g+1}`}>
          <label for=${`policy-${g}-name`}>Variable name</label>
          <input id=${`policy-${g}-name`} value=${_.name} onInput=${h=>m(g,{name:h.currentTarget.value})} required />
          <label for=${`policy-${g}-ttl`}>Time to live</label>
          <input id=${`policy-${g}-ttl`} value=${_.ttl} onInput=${h=>m(g,{ttl:h.currentTarget.value})} required />
          <div class="scopes">
            ${no.map(h=>d`<label key=${h} class="check"><input type="checkbox" checked=${_.scopes.includes(h)}
                onChange=${y=>m(g,{scopes:y.currentTarget.checked?[..._.scopes,h]:_.scopes.filter($=>$!==h)})} /> ${h}</label>`)}
          </div>
          <button type="button" onClick=${()=>i({...o,policies:o.policies.filter((h,y)=>y!==g)})}>Remove policy</button>
        </div>`)}
      <button type="button" onClick=${()=>i({...o,policies:[...o.policies,{name:"",ttl:"60d",scopes:["USER"]}]})}>Add policy</button>
    </fieldset>
    <${H} error=${c} />
    <div class="actions">
      <button type="submit" class="primary">Save settings</button>
      <button type="button" onClick=${()=>s(!1)}>Cancel</button>
    </div>
  </form>`}function En(){let e=G(),{token:t}=e,n=ce(),[r,s]=b(0),o=Y(()=>N(t,dt,{first:20,after:n.after}),[n.after,r]);M(()=>e.setViewQuery({query:dt,variables:{first:20}}),[]);let[i,c]=b(null),[l,u]=b(null),[p,f]=b(!1),a=o.data?.viewer.tenant;async function m(){c(null),u(null),f(!0);try{let{runJanitor:_}=await N(t,hn);u(`Janitor run finished: ${_.variablesExpired} variables, ${_.kvEntriesExpired} KV entries and ${_.conversationsExpired} conversations expired, ${_.messagesTrimmed} messages trimmed.`),n.reset(),s(g=>g+1)}catch(_){c(_)}f(!1)}if(o.error&&!a)return d`<${H} error=${o.error} />`;if(!a)return d`<${Z} what="the tenant" />`;let v=o.data.janitorRuns;return d`<div class="view">
    <h1 tabindex="-1">Tenant ${a.id}</h1>
    <div class="columns">
      <section class="card" aria-labelledby="tenant-settings">
        <h2 id="tenant-settings">Settings</h2>
        <${oo} tenant=${a} />
        <p class="muted">Created <${q} at=${a.createdAt} />.</p>
      </section>
      <section class="card" aria-labelledby="janitor">
        <h2 id="janitor">Janitor</h2>
        <p>Removes expired variables, KV entries and conversations, and trims message logs.</p>
        <button type="button" class="primary" onClick=${m} disabled=${p}>${p?"Running\u2026":"Run janitor now"}</button>
        ${l&&d`<p role="status" class="ok">${l}</p>`}
        <${H} error=${i} />
      </section>
    </div>
    <section class="card" aria-labelledby="janitor-runs">
      <h2 id="janitor-runs">Janitor runs</h2>
      ${v.edges.length===0?d`<p class="muted">No runs yet.</p>`:d`<table class="list">
            <caption class="visually-hidden">Janitor runs, newest first</caption>
            <thead><tr><th scope="col">Started</th><th scope="col">Trigger</th><th scope="col">Finished</th><th scope="col">Variables</th><th scope="col">KV entries</th><th scope="col">Conversations</th><th scope="col">Messages trimmed</th><th scope="col">Error</th></tr></thead>
            <tbody>
              ${v.edges.map(({node:_})=>d`<tr key=${_.id}>
                  <td><${q} at=${_.startedAt} /></td><td>${_.trigger}</td><td><${q} at=${_.finishedAt} /></td>
                  <td>${_.variablesExpired}</td><td>${_.kvEntriesExpired}</td><td>${_.conversationsExpired}</td><td>${_.messagesTrimmed}</td>
                  <td>${_.error??"\u2014"}</td>
                </tr>`)}
            </tbody>
          </table>`}
      <${de} pager=${n} pageInfo=${v.pageInfo} total=${v.totalCount} label="Janitor runs" />
    </section>
  </div>`}function oo({tenant:e}){let{token:t}=G(),[n,r]=b(e.janitorSchedule),[s,o]=b(String(e.maxValueBytes)),[i,c]=b(null),[l,u]=b(null);async function p(f){f.preventDefault(),c(null),u(null);try{let a={janitorSchedule:n.trim(),maxValueBytes:Number.parseInt(s,10)},{updateTenantSettings:m}=await N(t,_n,{input:a});r(m.janitorSchedule),o(String(m.maxValueBytes)),u("Tenant settings saved.")}catch(a){c(a)}}return d`<form class="editor" onSubmit=${p} aria-label="Tenant settings">
    <label for="janitor-schedule">Janitor schedule <span class="muted">(cron with seconds: sec min hour day month weekday)</span></label>
    <input id="janitor-schedule" value=${n} onInput=${f=>r(f.currentTarget.value)} required />
    <label for="max-value-bytes">Largest value (bytes)</label>
    <input id="max-value-bytes" type="number" min="1" value=${s} onInput=${f=>o(f.currentTarget.value)} required />
    <div class="actions"><button type="submit" class="primary">Save tenant settings</button></div>
    ${l&&d`<p role="status" class="ok">${l}</p>`}
    <${H} error=${i} />
  </form>`}var je=20;function wn(){let e=G(),t=ce(),n=Y(()=>N(e.token,at,{first:je,after:t.after}),[t.after]);M(()=>e.setViewQuery({query:at,variables:{first:je}}),[]);let r=n.data?.bots;return d`<div class="view">
    <h1 tabindex="-1">Bots</h1>
    <${H} error=${n.error} />
    ${r?r.edges.length===0?d`<p class="muted">No bots yet. An admin creates them with <code>createBot</code> (try it in GraphiQL).</p>`:d`<table class="list">
            <caption class="visually-hidden">Bots of this tenant</caption>
            <thead><tr><th scope="col">Name</th><th scope="col">Session timeout</th><th scope="col">Messages kept</th><th scope="col">Created</th><th scope="col">Id</th></tr></thead>
            <tbody>
              ${r.edges.map(({node:s})=>d`<tr key=${s.id}>
                  <td><a href=${`#/bot/${s.id}`}>${s.name}</a></td>
                  <td>${s.sessionTimeout}</td>
                  <td>${s.lastMessagesKept}</td>
                  <td><${q} at=${s.createdAt} /></td>
                  <td><code class="id">${s.id}</code></td>
                </tr>`)}
            </tbody>
          </table>`:!n.error&&d`<${Z} what="bots" />`}
    <${de} pager=${t} pageInfo=${r?.pageInfo} total=${r?.totalCount} label="Bots" />
  </div>`}function Sn({id:e}){let t=G(),{token:n,canEdit:r,isAdmin:s}=t,o=Y(async()=>{let{bot:g}=await N(n,it,{id:e});if(!g)throw Object.assign(new Error(`bot ${e} not found`),{code:"NOT_FOUND"});return g},[e,n]),[i,c]=b({}),[l,u]=be(),[p,f]=b(0),a=Ve(300);M(()=>o.data&&c({BOT:o.data.memory}),[o.data]),M(()=>t.setViewQuery({query:it,variables:{id:e}}),[e]);let m={BOT:{scope:"BOT",botId:e}},v=qe({session:t,setMemories:c,bump:u,debounce:a,refs:m});ye([{query:ee,variables:{botId:e,scope:"BOT"}},{query:De,variables:{botId:e}}],g=>{g.memoryChanged&&v(g.memoryChanged),g.conversationChanged&&a("conversations",()=>f(h=>h+1))},()=>{o.reload(),f(g=>g+1)},e);let _=o.data;return o.error&&!_?d`<${H} error=${o.error} />`:_?d`<div class="view">
    <nav aria-label="Breadcrumb" class="crumbs"><a href="#/">Bots</a>${" \u203A "}${_.name}</nav>
    <h1 tabindex="-1">Bot ${_.name}</h1>
    <div class="columns">
      <section class="card" aria-labelledby="bot-settings">
        <h2 id="bot-settings">Settings</h2>
        <dl class="fields">
          <dt>Id</dt><dd><code class="id">${_.id}</code></dd>
          <dt>Session timeout</dt><dd>${_.sessionTimeout}</dd>
          <dt>Messages kept</dt><dd>${_.lastMessagesKept}</dd>
          <dt>Promotion</dt><dd>${_.promotion.mode}${_.promotion.names.length?`: ${_.promotion.names.join(", ")}`:""}</dd>
          <dt>Retention</dt>
          <dd>${_.retentionPolicies.length===0?"none":d`<ul class="plain">${_.retentionPolicies.map(g=>d`<li key=${g.name}><code>${g.name}</code>: ${g.ttl} (${g.scopes.join(", ")})</li>`)}</ul>`}</dd>
          <dt>Created</dt><dd><${q} at=${_.createdAt} /></dd>
          <dt>Updated</dt><dd><${q} at=${_.updatedAt} /></dd>
        </dl>
        ${s&&d`<${xn} bot=${_} onSaved=${()=>o.reload()} />`}
      </section>
      <div class="memories one">
        <${ve} token=${n} memory=${i.BOT} memRef=${m.BOT} canEdit=${r}
          flash=${l.BOT} onWritten=${()=>a("after-write",()=>o.reload())} />
      </div>
    </div>
    <div class="columns">
      <${Tn} owner=${{bot:e}} changed=${p} />
      <${ro} botId=${e} />
    </div>
  </div>`:d`<${Z} what="the bot" />`}function ro({botId:e}){let{token:t}=G(),n=ce(),[r,s]=b(""),[o,i]=b(null),c=Y(()=>N(t,on,{id:e,first:je,after:n.after,externalId:o}),[e,n.after,o]),l=c.data?.bot?.users;return d`<section class="card" aria-labelledby="bot-users">
    <h2 id="bot-users">Users</h2>
    <form class="inline" onSubmit=${p=>{p.preventDefault(),n.reset(),i(r.trim()||null)}} role="search" aria-label="Users by external id">
      <label for="user-search">External id</label>
      <input id="user-search" type="search" value=${r} onInput=${p=>s(p.currentTarget.value)} placeholder="exact match" />
      <button type="submit">Search</button>
      ${o&&d`<button type="button" onClick=${()=>{s(""),n.reset(),i(null)}}>Show all</button>`}
    </form>
    <${H} error=${c.error} />
    ${l?l.edges.length===0?d`<p class="muted">${o?`No user with external id \u201C${o}\u201D.`:"No users yet."}</p>`:d`<table class="list">
            <caption class="visually-hidden">Users of this bot</caption>
            <thead><tr><th scope="col">External id</th><th scope="col">Channel</th><th scope="col">Name</th><th scope="col">Created</th></tr></thead>
            <tbody>
              ${l.edges.map(({node:p})=>d`<tr key=${p.id}>
                  <td><a href=${`#/user/${p.id}`}>${p.externalId}</a></td>
                  <td>${p.channel}</td>
                  <td>${[p.firstName,p.lastName].filter(Boolean).join(" ")||"\u2014"}</td>
                  <td><${q} at=${p.createdAt} /></td>
                </tr>`)}
            </tbody>
          </table>`:!c.error&&d`<${Z} what="users" />`}
    <${de} pager=${n} pageInfo=${l?.pageInfo} total=${l?.totalCount} label="Users" />
  </section>`}function Tn({owner:e,changed:t=0}){let{token:n}=G(),r=ce(),[s,o]=b(""),i=Y(async()=>{let l={first:je,after:r.after,status:s||null};return e.bot?(await N(n,rn,{id:e.bot,...l})).bot?.conversations:(await N(n,ln,{id:e.user,...l})).user?.conversations},[e.bot,e.user,r.after,s,t]),c=i.data;return d`<section class="card" aria-labelledby="conversations">
    <h2 id="conversations">Conversations</h2>
    <div class="inline">
      <label for="status-filter">Status</label>
      <select id="status-filter" value=${s} onChange=${l=>{r.reset(),o(l.currentTarget.value)}}>
        <option value="">all</option>
        <option value="ACTIVE">ACTIVE</option>
        <option value="ENDED">ENDED</option>
        <option value="EXPIRED">EXPIRED</option>
      </select>
    </div>
    <${H} error=${i.error} />
    ${c?c.edges.length===0?d`<p class="muted">No conversations${s?` with status ${s}`:""}.</p>`:d`<table class="list">
            <caption class="visually-hidden">Conversations</caption>
            <thead><tr><th scope="col">Conversation</th><th scope="col">Status</th>${e.bot&&d`<th scope="col">User</th>`}<th scope="col">Last activity</th><th scope="col">Expires</th></tr></thead>
            <tbody>
              ${c.edges.map(({node:l})=>d`<tr key=${l.id}>
                  <td><a href=${`#/conversation/${l.id}`} aria-label=${`Conversation ${l.id}`}><code class="id">${l.id.slice(0,8)}…</code></a> <span class="muted">${l.channel}</span></td>
                  <td><span class=${`status status-${l.status.toLowerCase()}`}>${l.status}</span></td>
                  ${e.bot&&d`<td><a href=${`#/user/${l.user.id}`}>${l.user.externalId}</a></td>`}
                  <td><${q} at=${l.lastActivityAt} /></td>
                  <td>${l.status==="ACTIVE"?d`<${ne} at=${l.expiresAt} />`:"\u2014"}</td>
                </tr>`)}
            </tbody>
          </table>`:!i.error&&d`<${Z} what="conversations" />`}
    <${de} pager=${r} pageInfo=${c?.pageInfo} total=${c?.totalCount} label="Conversations" />
  </section>`}function Cn({id:e}){let t=G(),{token:n,canEdit:r}=t,s=Y(async()=>{let{user:y}=await N(n,ct,{id:e});if(!y)throw Object.assign(new Error(`user ${e} not found`),{code:"NOT_FOUND"});let{bot:$}=await N(n,Be,{id:y.botId});return{user:y,bot:$}},[e,n]),[o,i]=b({}),[c,l]=be(),u=Ve(),p=s.data?.user,f=p?.botId,a=p?.active.edges[0]?.node;M(()=>{s.data&&i({USER:p.memory,BOT:s.data.bot.memory,CONVERSATION:a?.memory,TEMP:a?.temp})},[s.data]),M(()=>t.setViewQuery({query:ct,variables:{id:e}}),[e]);let m=f?{USER:{scope:"USER",userId:e},BOT:{scope:"BOT",botId:f},...a&&{CONVERSATION:{scope:"CONVERSATION",conversationId:a.id},TEMP:{scope:"TEMP",conversationId:a.id}}}:{},v=qe({session:t,setMemories:i,bump:l,debounce:u,refs:m});if(ye(f?[a&&{query:ee,variables:{botId:f,ownerId:a.id}},{query:ee,variables:{botId:f,ownerId:e}},{query:ee,variables:{botId:f,scope:"BOT"}}]:[],y=>y.memoryChanged&&v(y.memoryChanged),()=>s.reload(),f?`${f}/${e}/${a?.id}`:null),s.error&&!p)return d`<${H} error=${s.error} />`;if(!p)return d`<${Z} what="the user" />`;let _=()=>u("after-write",()=>s.reload()),g=(y,$)=>d`<${ve} token=${n} memory=${o[y]} memRef=${m[y]} canEdit=${r}
      flash=${c[y]} onWritten=${_} owner=${$} />`,h=a&&d`of the active conversation <a href=${`#/conversation/${a.id}`} aria-label=${`Conversation ${a.id}`}><code class="id">${a.id.slice(0,8)}…</code></a>`;return d`<div class="view">
    <nav aria-label="Breadcrumb" class="crumbs">
      <a href="#/">Bots</a>${" \u203A "}<a href=${`#/bot/${f}`}>${s.data.bot.name}</a>${" \u203A "}user ${p.externalId}
    </nav>
    <h1 tabindex="-1">User ${p.externalId}</h1>
    <div class="columns">
      <section class="card" aria-labelledby="user-profile">
        <h2 id="user-profile">Profile</h2>
        <dl class="fields">
          <dt>Id</dt><dd><code class="id">${p.id}</code></dd>
          <dt>Channel</dt><dd>${p.channel}</dd>
          <dt>External id</dt><dd>${p.externalId}</dd>
          <dt>Name</dt><dd>${[p.firstName,p.lastName].filter(Boolean).join(" ")||"\u2014"}</dd>
          <dt>Locale</dt><dd>${p.locale??"\u2014"}</dd>
          <dt>Created</dt><dd><${q} at=${p.createdAt} /></dd>
          <dt>Active conversations</dt><dd>${p.active.totalCount}</dd>
        </dl>
      </section>
      <${Tn} owner=${{user:e}} />
    </div>
    <h2 class="section-title">Memory</h2>
    ${a?d`<div class="memories">
          ${g("CONVERSATION",h)} ${g("TEMP",h)} ${g("USER")} ${g("BOT")}
        </div>`:d`<p class="muted">No active conversation: its short-term and temp memories would show beside these.</p>
          <div class="memories two">${g("USER")} ${g("BOT")}</div>`}
  </div>`}var ut="botmem.token";function In(){try{return sessionStorage.getItem(ut)||""}catch{return""}}function pt(e){sessionStorage.setItem(ut,e)}function mt(){sessionStorage.removeItem(ut)}function so(){let e=location.hash.slice(1);if(!e||e.startsWith("/"))return null;let t=new URLSearchParams(e);return[...t.keys()].length?t:null}function kn(e=""){let t=so(),n=t?.get("token");if(n){pt(n.trim()),t.delete("token");let r=t.toString();history.replaceState(null,"",location.pathname+location.search+(r?"#"+r:e))}return n||null}function Nn(e){try{let n=e.split(".")[1].replace(/-/g,"+").replace(/_/g,"/"),r=n+"=".repeat((4-n.length%4)%4),s=Uint8Array.from(atob(r),o=>o.charCodeAt(0));return JSON.parse(new TextDecoder().decode(s))}catch{return null}}function An(e){return/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(e)}kn();function ao(){let[e,t]=b(location.hash);M(()=>{let r=()=>t(location.hash);return addEventListener("hashchange",r),()=>removeEventListener("hashchange",r)},[]);let n=e.replace(/^#\/?/,"").split("/").filter(Boolean).map(decodeURIComponent);return{name:n[0]||"bots",id:n[1]||null,hash:e}}function io({error:e,onToken:t}){let[n,r]=b(""),s=n.trim().replace(/^Bearer\s+/i,""),o=s&&!An(s);return d`<main id="main" class="signin" tabindex="-1">
    <h1>botmem inspector</h1>
    <p>Paste a botmem token (a JWT). The page keeps it in this tab's session storage and talks to this
      server's GraphQL API with it, so it can do exactly what the token allows and nothing more.</p>
    ${e&&d`<div class="error" role="alert"><strong>${e.code||"Error"}</strong>: ${e.message}</div>`}
    <form onSubmit=${i=>{i.preventDefault(),s&&!o&&t(s)}}>
      <label for="token">Token</label>
      <textarea id="token" name="token" rows="5" spellcheck="false" autocomplete="off" required
        aria-invalid=${o?"true":"false"} aria-describedby="token-help"
        value=${n} onInput=${i=>r(i.currentTarget.value)}></textarea>
      <p id="token-help" class=${o?"field-error":"muted"}>
        ${o?"This does not look like a JWT (three dot-separated parts).":"botmem token --tenant \u2026 --role viewer|editor|admin mints one; the development start prints a signed-in link."}
      </p>
      <button type="submit" class="primary">Sign in</button>
    </form>
  </main>`}function lo({session:e,route:t,liveStatus:n,onSignOut:r}){let{viewer:s,claims:o}=e,i=(c,l,u)=>d`<a href=${c} aria-current=${u?"page":void 0}>${l}</a>`;return d`<header class="top">
    <div class="brand"><a href="#/">botmem inspector</a></div>
    <nav aria-label="Main" class="main-nav">
      ${i("#/","Bots",["bots","bot","user","conversation"].includes(t.name))}
      ${e.isAdmin&&i("#/admin","Tenant & janitor",t.name==="admin")}
      <a href=${zt(e.viewQuery.query,e.viewQuery.variables)}
        title="Open GraphiQL with this view's query">Open in GraphiQL</a>
    </nav>
    <dl class="who" aria-label="Signed in as">
      <div><dt>Tenant</dt><dd data-testid="tenant">${s.tenant.id}</dd></div>
      <div><dt>Subject</dt><dd>${s.subject}</dd></div>
      <div><dt>Roles</dt><dd data-testid="roles">${s.roles.join(", ")}${s.bots?` (${s.bots.length} bots)`:""}</dd></div>
      <div><dt>Expires</dt><dd>${o?.exp?d`<${ne} at=${new Date(o.exp*1e3).toISOString()} />`:"unknown"}</dd></div>
      <div><dt>Live</dt><dd><span class=${`live live-${n}`} data-testid="live" data-status=${n}>${n}</span></dd></div>
    </dl>
    <button type="button" onClick=${r}>Sign out</button>
  </header>`}function co({entries:e,onClear:t}){return d`<section class="changelog" aria-labelledby="changelog-title">
    <div class="changelog-head">
      <h2 id="changelog-title">Change log <span class="muted">(${e.length} events since the page opened)</span></h2>
      ${e.length>0&&d`<button type="button" onClick=${t}>Clear</button>`}
    </div>
    ${e.length===0?d`<p class="muted">Live events of the memories and the conversation shown appear here.</p>`:d`<ol class="log" reversed tabindex="0" aria-labelledby="changelog-title">
          ${e.map(n=>d`<li key=${n.seq}>
              <time datetime=${n.at}>${Ue(n.at)}</time>
              <span class=${`op op-${n.kind.toLowerCase()}`}>${n.kind}</span>
              <code>${n.what}</code> <span class="detail">${n.detail}</span>
            </li>`)}
        </ol>`}
  </section>`}function uo(){let[e,t]=b(In()),[n,r]=b(null),[s,o]=b(null),[i,c]=b("idle"),[l,u]=b(0),[p,f]=b([]),[a,m]=b([]),[v,_]=b({query:st,variables:{}}),g=z(0),h=ao();M(()=>{if(!e)return;let E=!1;return N(e,st).then(w=>!E&&r(w.viewer),w=>{E||((w.code==="UNAUTHENTICATED"||w.code==="FORBIDDEN")&&(mt(),t("")),o(w))}),()=>{E=!0}},[e]);let y=Pe(()=>!e||!n?null:en(e,(E,w)=>{c(E),E==="live"&&w&&u(V=>V+1)}),[e,n]);M(()=>()=>y?.dispose(),[y]);let $=z(null),P=z(!0);if(M(()=>{P.current?P.current=!1:$.current?.focus()},[h.hash]),!e||!n&&s)return d`<${io} error=${s} onToken=${E=>{pt(E),o(null),r(null),t(E)}} />`;if(!n)return d`<p class="muted" role="status">Signing in…</p>`;let A=n.roles,B={token:e,viewer:n,claims:Nn(e),canEdit:A.includes("EDITOR")||A.includes("ADMIN"),isAdmin:A.includes("ADMIN"),live:y,reconnects:l,viewQuery:v,setViewQuery:_,notify:(E,w="info")=>f(V=>[...V.slice(-2),{id:++g.current,text:E,kind:w,at:new Date().toISOString()}]),addLog:E=>m(w=>[{...E,seq:++g.current},...w].slice(0,500))},U=()=>{mt(),r(null),t(""),m([]),f([]),location.hash=""},x;return h.name==="bot"&&h.id?x=d`<${Sn} key=${h.id} id=${h.id} />`:h.name==="user"&&h.id?x=d`<${Cn} key=${h.id} id=${h.id} />`:h.name==="conversation"&&h.id?x=d`<${vn} key=${h.id} id=${h.id} />`:h.name==="admin"?x=B.isAdmin?d`<${En} />`:d`<p>Only admin tokens manage the tenant.</p>`:x=d`<${wn} />`,d`<${Le.Provider} value=${B}>
    <a class="skip" href="#main" onClick=${E=>{E.preventDefault(),$.current?.focus()}}>Skip to content</a>
    <${lo} session=${B} route=${h} liveStatus=${i} onSignOut=${U} />
    <div class="notices" role="status" aria-live="polite">
      ${p.map(E=>d`<p key=${E.id} class=${`notice notice-${E.kind}`}>
          ${E.text}
          <button type="button" class="link" aria-label="Dismiss" onClick=${()=>f(w=>w.filter(V=>V.id!==E.id))}>×</button>
        </p>`)}
    </div>
    <main id="main" ref=${$} tabindex="-1">${x}</main>
    <${co} entries=${a} onClear=${()=>m([])} />
  </${Le.Provider}>`}At(d`<${uo} />`,document.getElementById("root"));
